#!/usr/bin/python3
"""PIL's side of tools/pil-compare.mjs's timing: the same 4000x3000 JPEG decoded and resized to 224 x 224.

    /usr/bin/python3 tools/pil-speed.py /tmp/pil-photos
"""
import io
import os
import sys
import time

from PIL import Image


def median(xs):
    return sorted(xs)[len(xs) // 2]


def timed(fn, runs=7):
    fn()
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return median(wall), median(cpu)


def main():
    directory = sys.argv[1]
    big = io.BytesIO()
    Image.open(os.path.join(directory, 'coffee.png')).convert('RGB').resize((4000, 3000), Image.Resampling.BICUBIC).save(big, 'JPEG', quality=90)
    data = big.getvalue()
    decoded = Image.open(io.BytesIO(data)).convert('RGB')
    print('| PIL step | wall ms | CPU ms |\n|---|---|---|')
    for step, fn in [
        ('Image.open().convert("RGB")', lambda: Image.open(io.BytesIO(data)).convert('RGB')),
        ('resize bicubic -> 224x224', lambda: decoded.resize((224, 224), resample=3, reducing_gap=None)),
        ('resize lanczos -> 224x224', lambda: decoded.resize((224, 224), resample=1, reducing_gap=None)),
    ]:
        wall, cpu = timed(fn)
        print(f'| {step} | {wall:.0f} | {cpu:.0f} |')


if __name__ == '__main__':
    main()
