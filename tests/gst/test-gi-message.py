#!/usr/bin/python3
"""Python reads every field of cnnclassify's `cnn-classification` bus
message through the supported API: Gst.Structure's getters and, for the
`probabilities` GstValueArray, gst-python's overrides (python3-gst-1.0),
which hand it over as a Gst.ValueArray of floats; no deprecated call
(DeprecationWarning is an error here).  Each message says what the meta
of its buffer says, read in a pad probe through the GstCnn typelib:
class, label, confidence and every probability float for float, the
region, and the buffer's times.

Run by meson (suite 'python') with GST_PLUGIN_PATH, GI_TYPELIB_PATH and
LD_LIBRARY_PATH pointing at the build.
"""
import warnings

warnings.simplefilter('error', DeprecationWarning)

import gi  # noqa: E402

gi.require_version('Gst', '1.0')
gi.require_version('GstCnn', '1.0')
from gi.repository import Gst, GstCnn  # noqa: E402

from gi_checks import as_float32, fail  # noqa: E402

FRAMES = 8


def probabilities_of(s):
    """The message's probabilities as a list of floats."""
    value = s.get_value('probabilities')
    if not isinstance(value, Gst.ValueArray):
        fail('probabilities is a %s, not a Gst.ValueArray: are gst-python\'s '
             'overrides (python3-gst-1.0) installed?' % type(value))
    return [value[i] for i in range(len(value))]


def message_fields(s):
    ok_int, class_id = s.get_int('class-id')
    ok_conf, confidence = s.get_double('confidence')
    times = [s.get_uint64(f) for f in ('timestamp', 'stream-time',
                                       'running-time')]
    roi = [s.get_uint(f) for f in ('roi-x', 'roi-y', 'roi-width',
                                   'roi-height')]
    if not (ok_int and ok_conf and all(ok for ok, _ in times + roi)):
        fail('a field is missing or of another type: %s' % s.to_string())
    return {
        'class_id': class_id,
        'label': s.get_string('label'),
        'confidence': confidence,
        'probabilities': probabilities_of(s),
        'times': [t for _, t in times],
        'roi': [v for _, v in roi],
    }


def meta_fields(buffer):
    meta = GstCnn.buffer_get_cnn_classification_meta(buffer)
    if meta is None:
        fail('a classified buffer without a meta')
    return {
        'class_id': meta.class_id,
        'label': meta.label or '',
        'confidence': meta.confidence,
        'probabilities': list(meta.probabilities),
        'times': [buffer.pts] * 3,
        'roi': [meta.roi_x, meta.roi_y, meta.roi_width, meta.roi_height],
    }


def main():
    Gst.init(None)
    # "resize" and threshold=0: a class for every frame of the moving
    # ball, whose pictures differ from frame to frame.
    pipeline = Gst.parse_launch(
        'videotestsrc num-buffers=%d pattern=ball '
        '! video/x-raw,format=GRAY8,width=320,height=240,framerate=30/1 '
        '! cnnclassify name=c roi=40,20,200,200 preprocess=resize '
        'threshold=0 ! fakesink name=sink' % FRAMES)
    metas = []

    def probe(pad, info):
        metas.append(meta_fields(info.get_buffer()))
        return Gst.PadProbeReturn.OK

    pipeline.get_by_name('sink').get_static_pad('sink').add_probe(
        Gst.PadProbeType.BUFFER, probe)
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    messages = []
    while True:
        msg = bus.timed_pop_filtered(
            30 * Gst.SECOND, Gst.MessageType.ELEMENT | Gst.MessageType.EOS
            | Gst.MessageType.ERROR)
        if msg is None or msg.type != Gst.MessageType.ELEMENT:
            break
        s = msg.get_structure()
        if s.has_name('cnn-classification'):
            messages.append(message_fields(s))
    pipeline.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        fail('the pipeline did not reach EOS: %s'
             % (msg.parse_error()[0].message if msg else 'timeout'))

    if len(messages) != FRAMES or len(metas) != FRAMES:
        fail('%d messages and %d metas for %d frames'
             % (len(messages), len(metas), FRAMES))
    for i, (m, meta) in enumerate(zip(messages, metas)):
        # Doubles in the message, floats in the meta: the same floats.
        m['confidence'] = as_float32(m['confidence'])
        m['probabilities'] = [as_float32(p) for p in m['probabilities']]
        if m != meta:
            fail('frame %d: message %r, meta %r' % (i, m, meta))
        if m['times'][0] != i * Gst.SECOND // 30 or m['roi'] != [40, 20,
                                                                200, 200]:
            fail('frame %d: times %r, region %r' % (i, m['times'], m['roi']))
        if len(m['probabilities']) != 10 \
                or abs(sum(m['probabilities']) - 1) > 1e-5 \
                or m['probabilities'].index(max(m['probabilities'])) \
                != m['class_id'] or m['label'] != str(m['class_id']):
            fail('frame %d: not a result: %r' % (i, m))
    if len({tuple(m['probabilities']) for m in messages}) < 2:
        fail('every frame gave the same probabilities: the check is void')
    print('ok: %d messages read whole, each its buffer\'s meta' % FRAMES)


if __name__ == '__main__':
    main()
