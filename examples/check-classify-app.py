#!/usr/bin/python3
"""Runs an example app (classify-app or classify-app.py) and checks what it
prints: one meta line and one message line per frame, the digit drawn read
right in every one, the region the default one (the centred square), and
the meta and the message of each frame telling the same result.

  check-classify-app.py --frames N --digit D -- APP [ARGS...]
"""

import argparse
import re
import subprocess
import sys

# The apps draw on 320x240 frames; cnnclassify's default region for a
# square model input is the centred square of side min(width, height).
FRAME_WIDTH, FRAME_HEIGHT = 320, 240
N_CLASSES = 10

LINE = re.compile(
    r'^(?P<kind>meta|message): frame (?P<frame>\d+) pts (?P<pts>\d+) '
    r'class (?P<class>-?\d+) label (?P<label>\S+) '
    r'confidence (?P<confidence>[0-9.]+) '
    r'roi (?P<roi>\d+,\d+,\d+,\d+) '
    r'probabilities (?P<probabilities>[0-9.,]*)(?: model (?P<model>\S+))?$')


def default_roi():
    side = min(FRAME_WIDTH, FRAME_HEIGHT)
    return '%d,%d,%d,%d' % ((FRAME_WIDTH - side) // 2,
                            (FRAME_HEIGHT - side) // 2, side, side)


def fail(message, output=None):
    if output is not None:
        sys.stdout.write(output)
    print('FAIL: ' + message)
    sys.exit(1)


def parse(output):
    results = {'meta': {}, 'message': {}}
    for line in output.splitlines():
        m = LINE.match(line)
        if m is None:
            if line.startswith(('meta:', 'message:')):
                fail('malformed line: %r' % line, output)
            continue
        frame = int(m['frame'])
        if frame in results[m['kind']]:
            fail('two %s lines for frame %d' % (m['kind'], frame), output)
        results[m['kind']][frame] = m.groupdict()
    return results


def check_result(kind, frame, r, digit, output):
    where = '%s of frame %d' % (kind, frame)
    probabilities = [float(p) for p in r['probabilities'].split(',')]
    if int(r['class']) != int(digit) or r['label'] != digit:
        fail('%s: read class %s label %s, the digit drawn is %s'
             % (where, r['class'], r['label'], digit), output)
    if float(r['confidence']) < 0.9:
        fail('%s: confidence %s below 0.9' % (where, r['confidence']), output)
    if len(probabilities) != N_CLASSES:
        fail('%s: %d probabilities, the model has %d classes'
             % (where, len(probabilities), N_CLASSES), output)
    if probabilities.index(max(probabilities)) != int(r['class']):
        fail('%s: the class is not the most probable one' % where, output)
    # Ten values rounded to 3 decimals sum to 1 within 0.005.
    if abs(sum(probabilities) - 1.0) > 0.006:
        fail('%s: probabilities sum to %.4f' % (where, sum(probabilities)),
             output)
    if r['roi'] != default_roi():
        fail('%s: region %s, expected the centred square %s'
             % (where, r['roi'], default_roi()), output)
    if kind == 'meta' and r['model'] in (None, '-'):
        fail('%s: no model name' % where, output)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--frames', type=int, required=True)
    parser.add_argument('--digit', required=True)
    parser.add_argument('app', nargs='+')
    args = parser.parse_args()

    command = args.app + ['--frames', str(args.frames),
                          '--digit', args.digit]
    run = subprocess.run(command, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=120)
    output = run.stdout
    if run.returncode != 0:
        fail('%s exited with status %d' % (' '.join(command), run.returncode),
             output)

    results = parse(output)
    expected = set(range(args.frames))
    for kind in ('meta', 'message'):
        if set(results[kind]) != expected:
            fail('%s lines for frames %s, expected frames 0..%d'
                 % (kind, sorted(results[kind]), args.frames - 1), output)
        for frame, r in results[kind].items():
            check_result(kind, frame, r, args.digit, output)

    for frame in sorted(expected):
        meta, message = results['meta'][frame], results['message'][frame]
        for field in ('pts', 'class', 'label', 'confidence', 'roi',
                      'probabilities'):
            if meta[field] != message[field]:
                fail('frame %d: the meta says %s %s, the message %s'
                     % (frame, field, meta[field], message[field]), output)

    sys.stdout.write(output)
    print('ok: %d frames, digit %s read in every one; meta and message agree'
          % (args.frames, args.digit))


if __name__ == '__main__':
    main()
