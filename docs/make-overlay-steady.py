#!/usr/bin/python3
"""Renders docs/overlay-steady.png: ten consecutive frames of
cnnclassify interval=5 ! cnnoverlay, a "3" written on paper that becomes
a "7" at frame 3, each frame captioned with its number and the meta's
frames_ago as cnnpublish wrote it.  Every frame carries a result, so the
overlay never blinks; frames 3 and 4 still show the 3 classified at
frame 0 (frames_ago 3, 4) until frame 5 is classified.

    GST_PLUGIN_PATH=build/gst-cnn/gst docs/make-overlay-steady.py [OUT.png]

Needs Debian's python3-gi and python3-pil.
"""
import json
import os
import sys
import tempfile

import gi

gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

FRAMES = 10
CHANGE_AT = 3


def render(scratch):
    Gst.init(None)
    pipeline = Gst.parse_launch(
        'videotestsrc pattern=white num-buffers=%d '
        '! video/x-raw,format=I420,width=320,height=240,framerate=10/1 '
        '! textoverlay name=ink text=3 font-desc="Sans Bold 110" '
        'auto-resize=false color=0xff1a1a1a draw-shadow=false '
        'draw-outline=false valignment=center halignment=center '
        '! cnnclassify interval=5 ! cnnoverlay '
        '! cnnpublish location=%s ! videoconvert ! pngenc '
        '! multifilesink location=%s'
        % (FRAMES, os.path.join(scratch, 'frames.jsonl'),
           os.path.join(scratch, 'f%02d.png')))
    ink = pipeline.get_by_name('ink')
    seen = [0]

    def change_digit(pad, info):
        if seen[0] == CHANGE_AT:
            ink.set_property('text', '7')
        seen[0] += 1
        return Gst.PadProbeReturn.OK

    ink.get_static_pad('video_sink').add_probe(Gst.PadProbeType.BUFFER,
                                               change_digit)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(
        30 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        sys.exit('make-overlay-steady.py: the pipeline failed')


def tile(scratch, out):
    lines = [json.loads(line)
             for line in open(os.path.join(scratch, 'frames.jsonl'))]
    w, h, caption = 320, 240, 22
    sheet = Image.new('RGB', (5 * w, 2 * (h + caption)), 'white')
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for i in range(FRAMES):
        frame = Image.open(os.path.join(scratch, 'f%02d.png' % i))
        x, y = (i % 5) * w, (i // 5) * (h + caption)
        sheet.paste(frame.convert('RGB'), (x, y))
        meta = lines[i]['metas'][0]
        draw.text((x + 6, y + h + 5), 'frame %d: %s, frames_ago %d'
                  % (i, meta['label'] or '-', meta['frames_ago']),
                  fill='black', font=font)
    sheet.save(out)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'overlay-steady.png')
    with tempfile.TemporaryDirectory() as scratch:
        render(scratch)
        tile(scratch, out)
    print(out)


if __name__ == '__main__':
    main()
