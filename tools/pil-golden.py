#!/usr/bin/python3
"""
Writes the reference fixtures for @mllm/data's PIL-exact image preprocessing:
packages/data/src/__fixtures__/pil/.

Run with Debian's python3-pil and python3-numpy (a yardstick, never a dependency):

    /usr/bin/python3 tools/pil-golden.py

What it writes (manifest.json lists every case):
- source images: small synthetic pictures with sharp edges, gradients and noise, odd sizes;
- resize-*.png: PIL's Image.resize((w, h), resample=r) of a source, for every resample
  (0 nearest .. 5 hamming), enlarging, reducing and both at once (one axis each way);
- decode-*.png: np.array(Image.open(f).convert("RGB")) for files PIL treats specially: a JPEG with
  an embedded ICC profile (PIL does not colour-manage), RGBA, LA, paletted with transparency,
  greyscale, 16-bit RGB and greyscale PNGs, a CMYK JPEG;
- pipeline-*.f32: the pixel_values (HWC float32) of transformers' CLIPImageProcessor and
  SiglipImageProcessor (and LLaVA-1.5's expand2square before CLIP), reproduced here with PIL and
  numpy from transformers' own formulas, since transformers itself is not installed.
The tests read these files; they never need python.

    /usr/bin/python3 tools/pil-golden.py --photos DIR

writes, instead, PIL's resizes of real photographs (scikit-image's sample data, from Debian's
python3-skimage) to DIR for tools/pil-compare.mjs, which measures this project against them.
"""
import io
import json
import os
import struct
import sys

import numpy as np
from PIL import Image, ImageCms, ImageDraw

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'packages', 'data', 'src', '__fixtures__', 'pil')
RESAMPLES = {0: 'nearest', 1: 'lanczos', 2: 'bilinear', 3: 'bicubic', 4: 'box', 5: 'hamming'}
OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def synthetic(width, height, seed):
    """Gradients, hard-edged shapes, a one-pixel checkerboard and a noise patch: every filter's weak spot."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    img = np.zeros((height, width, 3), dtype=np.uint8)
    img[..., 0] = (x * 255 // max(1, width - 1)).astype(np.uint8)
    img[..., 1] = (y * 255 // max(1, height - 1)).astype(np.uint8)
    img[..., 2] = ((x + y) * 7 % 256).astype(np.uint8)
    im = Image.fromarray(img, 'RGB')
    draw = ImageDraw.Draw(im)
    draw.rectangle([width // 5, height // 4, width // 2, height // 2], fill=(255, 255, 255))
    draw.rectangle([width // 2, height // 2, width - 3, height - 2], fill=(0, 0, 0))
    draw.line([0, height - 1, width - 1, 0], fill=(255, 0, 255), width=1)
    arr = np.array(im)
    cw, ch = max(2, width // 4), max(2, height // 4)
    arr[1:1 + ch, width - cw - 1:width - 1] = np.where(((y[:ch, :cw] + x[:ch, :cw]) % 2 == 0)[..., None], 255, 0)
    arr[height - ch - 1:height - 1, 1:1 + cw] = rng.integers(0, 256, (ch, cw, 3), dtype=np.uint8)
    return Image.fromarray(arr, 'RGB')


def save_png(im, name):
    # from the bare pixels: an image keeps the source's info, and PNG save would embed its ICC profile
    Image.fromarray(np.array(im)).save(os.path.join(OUT, name), optimize=True)


def icc_linear_srgb():
    """A matrix/TRC ICC v2 profile: sRGB primaries with a linear (gamma 1) curve, so applying it changes every mid-tone."""
    def s15(v):
        return struct.pack('>i', int(round(v * 65536)))

    def xyz(v):
        return b'XYZ ' + b'\0' * 4 + b''.join(s15(c) for c in v)

    def text_desc(s):
        ascii_ = s.encode('ascii') + b'\0'
        return b'desc' + b'\0' * 4 + struct.pack('>I', len(ascii_)) + ascii_ + b'\0' * 8 + b'\0' * 3 + b'\0' * 67

    curve = b'curv' + b'\0' * 4 + struct.pack('>I', 1) + struct.pack('>H', 256) + b'\0\0'
    tags = [
        (b'desc', text_desc('linear sRGB test profile')),
        (b'cprt', b'text' + b'\0' * 4 + b'public domain\0'),
        (b'wtpt', xyz([0.9642, 1.0, 0.8249])),
        (b'rXYZ', xyz([0.4361, 0.2225, 0.0139])),
        (b'gXYZ', xyz([0.3851, 0.7169, 0.0971])),
        (b'bXYZ', xyz([0.1431, 0.0606, 0.7141])),
        (b'rTRC', curve), (b'gTRC', curve), (b'bTRC', curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b'', b''
    for sig, body in tags:
        while len(body) % 4:
            body += b'\0'
        table += sig + struct.pack('>II', offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = struct.pack('>I', size) + b'lcms' + bytes([2, 0x10, 0, 0]) + b'mntrRGB XYZ ' + struct.pack('>6H', 2024, 1, 1, 0, 0, 0)
    header += b'acsp' + b'\0' * 4 + b'\0' * 4 + b'\0' * 8 + b'\0' * 8 + struct.pack('>I', 0) + s15(0.9642) + s15(1.0) + s15(0.8249) + b'\0' * 4 + b'\0' * 16
    header += b'\0' * (128 - len(header))
    return header + struct.pack('>I', len(tags)) + table + data


def decode_sources(base):
    """Files whose decoding PIL does its own way; each is saved as the file a user would have."""
    files = {}
    buf = io.BytesIO()
    profile = icc_linear_srgb()
    ImageCms.ImageCmsProfile(io.BytesIO(profile))  # lcms must accept it, or the fixture proves nothing
    base.save(buf, 'JPEG', quality=92, icc_profile=profile)
    files['icc.jpg'] = buf.getvalue()
    arr = np.array(base)
    h, w = arr.shape[:2]
    alpha = (np.add.outer(np.arange(h), np.arange(w)) * 9 % 256).astype(np.uint8)
    for name, im in [
        ('rgba.png', Image.fromarray(np.dstack([arr, alpha]), 'RGBA')),
        ('grey-alpha.png', Image.fromarray(np.dstack([arr[..., 1], alpha]), 'LA')),
        ('grey.png', base.convert('L')),
    ]:
        buf = io.BytesIO()
        im.save(buf, 'PNG')
        files[name] = buf.getvalue()
    buf = io.BytesIO()
    paletted = base.quantize(colors=37)
    paletted.info['transparency'] = 5
    paletted.save(buf, 'PNG', transparency=5)
    files['palette.png'] = buf.getvalue()
    # 16-bit samples: PIL keeps the high byte of RGB, and opens greyscale as mode I (convert clips at 255)
    rgb16 = arr.astype(np.uint16) * 257 + np.uint16(91)
    grey16 = (np.add.outer(np.arange(h), np.arange(w)) * 37).astype(np.uint16)
    files['rgb16.png'] = png16(rgb16, 2)
    files['grey16.png'] = png16(grey16, 0)
    buf = io.BytesIO()
    base.convert('CMYK').save(buf, 'JPEG', quality=95)
    files['cmyk.jpg'] = buf.getvalue()
    return files


def png16(arr, colour_type):
    """A 16-bit PNG written by hand: PIL cannot write 16-bit RGB."""
    import zlib
    h, w = arr.shape[:2]
    raw = b''.join(b'\0' + arr[y].astype('>u2').tobytes() for y in range(h))

    def chunk(kind, body):
        return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body) & 0xffffffff)

    ihdr = struct.pack('>IIBBBBB', w, h, 16, colour_type, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')


# transformers' image_transforms, reproduced: to_numpy (uint8 HWC), PIL resize, crop, rescale, normalise
def hf_rescale(arr, factor=1 / 255):
    return (arr.astype(np.float64) * factor).astype(np.float32)


def hf_normalize(arr, mean, std):
    return (arr - np.array(mean, dtype=arr.dtype)) / np.array(std, dtype=arr.dtype)


def hf_resize(arr, height, width, resample):
    return np.array(Image.fromarray(arr).resize((width, height), resample=resample, reducing_gap=None))


def hf_shortest_edge(height, width, size):
    """get_resize_output_image_size(default_to_square=False): short side exact, long side int(size * long / short)."""
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, int(size * long / short)
    return (new_long, new_short) if width <= height else (new_short, new_long)


def hf_center_crop(arr, height, width):
    top = (arr.shape[0] - height) // 2
    left = (arr.shape[1] - width) // 2
    return arr[top:top + height, left:left + width]


def clip_processor(im, config):
    arr = np.array(im.convert('RGB'))
    h, w = hf_shortest_edge(arr.shape[0], arr.shape[1], config['size']['shortest_edge'])
    arr = hf_resize(arr, h, w, config['resample'])
    arr = hf_center_crop(arr, config['crop_size']['height'], config['crop_size']['width'])
    return hf_normalize(hf_rescale(arr), config.get('image_mean', OPENAI_CLIP_MEAN), config.get('image_std', OPENAI_CLIP_STD))


def siglip_processor(im, config):
    arr = np.array(im.convert('RGB'))
    arr = hf_resize(arr, config['size']['height'], config['size']['width'], config['resample'])
    return hf_normalize(hf_rescale(arr), config['image_mean'], config['image_std'])


def expand2square(im, background):
    """LLaVA's llava/mm_utils.py expand2square."""
    width, height = im.size
    if width == height:
        return im
    side = max(width, height)
    result = Image.new(im.mode, (side, side), background)
    result.paste(im, (0, (side - height) // 2) if width > height else ((side - width) // 2, 0))
    return result


def photos(out):
    """Real photographs, reduced to 224 and enlarged to 224 / 336, with each filter: not committed, only measured."""
    import skimage
    data = os.path.join(os.path.dirname(skimage.__file__), 'data')
    os.makedirs(out, exist_ok=True)
    coffee = Image.open(os.path.join(data, 'coffee.png')).convert('RGB')
    astronaut = Image.open(os.path.join(data, 'astronaut.png')).convert('RGB')
    sources = {
        'coffee.png': coffee,  # 600x400
        'rocket.jpg': Image.open(os.path.join(data, 'rocket.jpg')).convert('RGB'),  # 427x640
        'astronaut-crop.png': astronaut.crop((180, 60, 340, 180)),  # 160x120
        'coffee-small.png': coffee.resize((150, 100), Image.Resampling.LANCZOS),
    }
    cases = [('down', 'coffee.png', (224, 224)), ('down', 'rocket.jpg', (224, 224)), ('up', 'astronaut-crop.png', (224, 224)), ('up', 'coffee-small.png', (336, 336))]
    manifest = {'pillow': Image.__version__, 'cases': []}
    for name, im in sources.items():
        if name.endswith('.png'):
            save(im, os.path.join(out, name))
        else:
            with open(os.path.join(data, name), 'rb') as src, open(os.path.join(out, name), 'wb') as dst:
                dst.write(src.read())
    for direction, name, size in cases:
        for code, filt in RESAMPLES.items():
            file = f'{name.rsplit(".", 1)[0]}-{size[0]}x{size[1]}-{filt}.png'
            save(sources[name].resize(size, resample=code, reducing_gap=None), os.path.join(out, file))
            manifest['cases'].append({'direction': direction, 'source': name, 'width': size[0], 'height': size[1], 'resample': code, 'expected': file})
    with open(os.path.join(out, 'manifest.json'), 'w') as fh:
        json.dump(manifest, fh, indent=1)


def save(im, path):
    Image.fromarray(np.array(im)).save(path)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--photos':
        photos(sys.argv[2])
        return
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    small = synthetic(23, 17, 1)
    large = synthetic(97, 61, 2)
    save_png(small, 'small.png')
    save_png(large, 'large.png')
    manifest = {'pillow': Image.__version__, 'numpy': np.__version__, 'resize': [], 'decode': [], 'pipeline': []}

    # (source, width, height): enlarge, reduce, one axis each way
    for label, source, im, size in [('up', 'small.png', small, (61, 45)), ('down', 'large.png', large, (29, 19)), ('mixed', 'large.png', large, (40, 70))]:
        for code, name in RESAMPLES.items():
            file = f'resize-{label}-{name}.png'
            save_png(im.resize(size, resample=code, reducing_gap=None), file)
            manifest['resize'].append({'source': source, 'width': size[0], 'height': size[1], 'resample': code, 'expected': file, 'direction': label})

    for name, data in decode_sources(synthetic(31, 21, 3)).items():
        with open(os.path.join(OUT, name), 'wb') as fh:
            fh.write(data)
        im = Image.open(io.BytesIO(data))
        expected = f'decode-{name.rsplit(".", 1)[0]}.png'
        save_png(im.convert('RGB'), expected)
        manifest['decode'].append({'source': name, 'mode': im.mode, 'expected': expected})

    clip = {'image_processor_type': 'CLIPImageProcessor', 'size': {'shortest_edge': 24}, 'crop_size': {'height': 24, 'width': 24}, 'resample': 3,
            'image_mean': OPENAI_CLIP_MEAN, 'image_std': OPENAI_CLIP_STD}
    clip_up = {**clip, 'size': {'shortest_edge': 30}, 'crop_size': {'height': 26, 'width': 26}, 'resample': 1}
    siglip = {'image_processor_type': 'SiglipImageProcessor', 'size': {'height': 24, 'width': 24}, 'resample': 2,
              'image_mean': [0.5, 0.5, 0.5], 'image_std': [0.5, 0.5, 0.5]}
    siglip_up = {**siglip, 'size': {'height': 26, 'width': 30}, 'resample': 3}
    pad_colour = tuple(int(x * 255) for x in OPENAI_CLIP_MEAN)
    for name, source, config, options, values in [
        ('clip-down', 'large.png', clip, {}, clip_processor(large, clip)),
        ('clip-up', 'small.png', clip_up, {}, clip_processor(small, clip_up)),
        ('siglip-down', 'large.png', siglip, {}, siglip_processor(large, siglip)),
        ('siglip-up', 'small.png', siglip_up, {}, siglip_processor(small, siglip_up)),
        ('llava-pad', 'large.png', clip, {'imageAspectRatio': 'pad'}, clip_processor(expand2square(large, pad_colour), clip)),
    ]:
        file = f'pipeline-{name}.f32'
        values.astype('<f4').tofile(os.path.join(OUT, file))
        manifest['pipeline'].append({'source': source, 'config': config, 'options': options, 'shape': list(values.shape), 'expected': file})

    with open(os.path.join(OUT, 'manifest.json'), 'w') as fh:
        json.dump(manifest, fh, indent=1)
        fh.write('\n')
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f'wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.relpath(OUT)}', file=sys.stderr)


if __name__ == '__main__':
    main()
