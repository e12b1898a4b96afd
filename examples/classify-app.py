#!/usr/bin/python3
"""classify-app.py — an application embedding cnnclassify, in Python.

The same as classify-app.c, with PyGObject and gst-python's overrides
(Debian: python3-gi, python3-gst-1.0): a digit is drawn in dark
ink on paper-white video, every frame is classified by the bundled digit
model, and each result is printed twice: as read from the buffer's
GstCnnClassificationMeta in a pad probe (through the GstCnn typelib), and
as read from the `cnn-classification` message on the bus:

  meta: frame 0 pts 0 class 3 label 3 confidence 1.000 roi 40,0,240,240 probabilities 0.000,...
  message: frame 0 pts 0 class 3 label 3 confidence 1.000 roi 40,0,240,240 probabilities 0.000,...

From the build tree (installed, the variables are not needed):

  GST_PLUGIN_PATH=build/gst-cnn/gst GI_TYPELIB_PATH=build/gst-cnn/gst \\
  LD_LIBRARY_PATH=build/gst-cnn/gst examples/classify-app.py --frames 5 --digit 3
"""

import argparse
import sys
import threading

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstCnn', '1.0')
from gi.repository import GLib, Gst, GstCnn  # noqa: E402

# The frame rate of the drawn video; frames are numbered from timestamps.
FPS = 10


# The probe prints from the streaming thread, the bus watch from the main
# one: one lock, so that their lines never interleave.
output_lock = threading.Lock()


def emit(line):
    with output_lock:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()


def frame_number(timestamp):
    if timestamp == Gst.CLOCK_TIME_NONE:
        return -1
    return Gst.util_uint64_scale_round(timestamp, FPS, Gst.SECOND)


def result_line(kind, timestamp, class_id, label, confidence, roi,
                probabilities):
    return ('%s: frame %d pts %d class %d label %s confidence %.3f '
            'roi %u,%u,%u,%u probabilities %s'
            % (kind, frame_number(timestamp), timestamp, class_id,
               label or '-', confidence, *roi,
               ','.join('%.3f' % p for p in probabilities)))


def print_meta(pad, info):
    buffer = info.get_buffer()
    meta = GstCnn.buffer_get_cnn_classification_meta(buffer)
    if meta is None:
        return Gst.PadProbeReturn.OK
    line = result_line('meta', buffer.pts, meta.class_id, meta.label,
                       meta.confidence,
                       (meta.roi_x, meta.roi_y, meta.roi_width,
                        meta.roi_height),
                       meta.probabilities)
    emit('%s model %s' % (line, meta.model or '-'))
    return Gst.PadProbeReturn.OK


def message_probabilities(s):
    # A GstValueArray: gst-python's overrides (python3-gst-1.0) hand it
    # over as a Gst.ValueArray, a sequence of floats.  Without them
    # PyGObject cannot hold one at all.
    probabilities = s.get_value('probabilities')
    return [probabilities[i] for i in range(len(probabilities))]


def print_classification(s):
    label = s.get_string('label')
    emit(result_line('message', s.get_uint64('timestamp')[1],
                      s.get_int('class-id')[1], label,
                      s.get_double('confidence')[1],
                      tuple(s.get_uint(f)[1] for f in
                            ('roi-x', 'roi-y', 'roi-width', 'roi-height')),
                      message_probabilities(s)))


def main():
    if not hasattr(Gst, 'ValueArray') or 'overrides' not in \
            getattr(Gst.ValueArray, '__module__', ''):
        print('classify-app.py: reading the message needs gst-python\'s '
              'overrides (python3-gst-1.0)', file=sys.stderr)
        return 1
    parser = argparse.ArgumentParser(
        description='classify a drawn digit with cnnclassify')
    parser.add_argument('--frames', '-n', type=int, default=5,
                        help='frames to classify (default 5)')
    parser.add_argument('--digit', '-d', default='3',
                        help='text drawn on the frames (default 3)')
    args = parser.parse_args()
    if args.frames < 1:
        parser.error('--frames must be at least 1')

    Gst.init(None)
    # A white 320x240 video with the digit drawn in the middle in dark ink,
    # as a pen on paper would; cnnclassify's default region is the centred
    # square.
    try:
        pipeline = Gst.parse_launch_full(
            'videotestsrc pattern=white num-buffers=%d '
            '! video/x-raw,format=I420,width=320,height=240,framerate=%d/1 '
            '! textoverlay name=ink font-desc="Sans Bold 110" '
            'auto-resize=false color=0xff1a1a1a draw-shadow=false '
            'draw-outline=false valignment=center halignment=center '
            '! cnnclassify name=classify ! fakesink' % (args.frames, FPS),
            None, Gst.ParseFlags.FATAL_ERRORS)
    except GLib.Error as e:
        print('classify-app.py: cannot build the pipeline: %s\n'
              '(is the cnnclassify plugin on GST_PLUGIN_PATH?)' % e.message,
              file=sys.stderr)
        return 1
    # Set as a property, so that no quoting of the text is needed.
    pipeline.get_by_name('ink').set_property('text', args.digit)

    pad = pipeline.get_by_name('classify').get_static_pad('src')
    pad.add_probe(Gst.PadProbeType.BUFFER, print_meta)

    loop = GLib.MainLoop()
    failed = False

    def on_message(bus, message):
        nonlocal failed
        if message.type == Gst.MessageType.ELEMENT:
            s = message.get_structure()
            if s.has_name('cnn-classification'):
                print_classification(s)
        elif message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            print('classify-app.py: error from %s: %s\n%s'
                  % (message.src.get_name(), error.message, debug or ''),
                  file=sys.stderr)
            failed = True
            loop.quit()
        elif message.type == Gst.MessageType.EOS:
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect('message', on_message)

    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        # Print the error the failing element posted, then give up.
        context = loop.get_context()
        while context.iteration(False):
            pass
        failed = True
    else:
        loop.run()

    pipeline.set_state(Gst.State.NULL)
    bus.remove_signal_watch()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
