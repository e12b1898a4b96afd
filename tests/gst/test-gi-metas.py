#!/usr/bin/python3
"""Python (stock PyGObject, the GstCnn typelib) reads every
classification meta of a buffer: two cnnclassify in series, each on its
own region and model, and GstCnn.buffer_get_cnn_classification_metas()
returns both, in order, with every field; with interval=3 on the second,
its frames_ago counts 0, 1, 2.  cnnpublish's JSON lines say the same,
float for float.

Run by meson (suite 'python') with GST_PLUGIN_PATH, GI_TYPELIB_PATH and
LD_LIBRARY_PATH pointing at the build; argv[1] is a scratch folder.
"""
import json
import os
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstCnn', '1.0')
from gi.repository import Gst, GstCnn  # noqa: E402

from gi_checks import as_float32, fail  # noqa: E402

FRAMES = 6


def main():
    scratch = sys.argv[1]
    os.makedirs(scratch, exist_ok=True)
    lines_path = os.path.join(scratch, 'results.jsonl')
    Gst.init(None)
    # The bundled digit model twice: the regions and intervals tell the
    # two metas apart; the first scales its region down whole ("resize"),
    # and with threshold=0 reports its most probable class, the second finds
    # no ink on the white paper ("mnist", the model's own) and none.
    pipeline = Gst.parse_launch(
        'videotestsrc num-buffers=%d pattern=white '
        '! video/x-raw,format=GRAY8,width=320,height=240,framerate=30/1 '
        '! cnnclassify name=first roi=0,0,100,100 preprocess=resize threshold=0 '
        '! cnnclassify name=second roi=150,50,160,120 interval=3 '
        '! cnnpublish location=%s ! fakesink name=sink'
        % (FRAMES, lines_path))
    seen = []

    def probe(pad, info):
        metas = GstCnn.buffer_get_cnn_classification_metas(info.get_buffer())
        seen.append([(m.roi_x, m.roi_y, m.roi_width, m.roi_height,
                      m.frames_ago, m.class_id, m.label, m.n_classes,
                      list(m.probabilities), m.model) for m in metas])
        return Gst.PadProbeReturn.OK

    pipeline.get_by_name('sink').get_static_pad('sink').add_probe(
        Gst.PadProbeType.BUFFER, probe)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(
        30 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        fail('the pipeline did not reach EOS: %s'
             % (msg.parse_error()[0].message if msg else 'timeout'))

    if len(seen) != FRAMES:
        fail('%d buffers at the sink, expected %d' % (len(seen), FRAMES))
    for i, metas in enumerate(seen):
        if len(metas) != 2:
            fail('frame %d: %d metas, expected 2' % (i, len(metas)))
        first, second = metas
        if first[:5] != (0, 0, 100, 100, 0):
            fail('frame %d: first meta %r' % (i, first[:5]))
        if second[:5] != (150, 50, 160, 120, i % 3):
            fail('frame %d: second meta %r' % (i, second[:5]))
        for m in metas:
            if m[7] != 10 or len(m[8]) != 10 or m[9] != 'digits':
                fail('frame %d: meta fields %r' % (i, m))
        if abs(sum(first[8]) - 1) > 1e-5 or not 0 <= first[5] < 10 \
                or first[6] != str(first[5]):
            fail('frame %d: the first meta is no result: %r' % (i, first))
        # No ink on white paper: no class, all-zero probabilities.
        if second[5] != -1 or second[6] is not None \
                or any(p != 0 for p in second[8]):
            fail('frame %d: a class on blank paper: %r' % (i, second))

    # cnnpublish wrote the same, one line per buffer.
    with open(lines_path) as f:
        lines = [json.loads(line) for line in f]
    if len(lines) != FRAMES:
        fail('%d JSON lines, expected %d' % (len(lines), FRAMES))
    for i, (line, metas) in enumerate(zip(lines, seen)):
        if line['pts'] != i * Gst.SECOND // 30:
            fail('line %d: pts %r' % (i, line['pts']))
        # JSON holds the shortest text of each float: read back as one.
        got = [(j['roi']['x'], j['roi']['y'], j['roi']['width'],
                j['roi']['height'], j['frames_ago'], j['class_id'],
                j['label'], len(j['probabilities']),
                [as_float32(p) for p in j['probabilities']],
                j['model']) for j in line['metas']]
        if got != [m[:7] + (m[7], m[8], m[9]) for m in metas]:
            fail('line %d: %r, metas %r' % (i, got, metas))
    print('ok: %d frames, 2 metas each, read from Python and JSON' % FRAMES)


if __name__ == '__main__':
    main()
