"""What the GstCnn Python tests share: failing with a message, and a
double narrowed to the float32 the element computed."""
import struct
import sys


def as_float32(value):
    return struct.unpack('f', struct.pack('f', value))[0]


def fail(text):
    print('FAIL: ' + text, file=sys.stderr)
    sys.exit(1)
