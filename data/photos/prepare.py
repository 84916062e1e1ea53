"""Rebuilds data/photos/images/ from scikit-image's sample photographs (Debian: python3-skimage).

Each photo (or a crop of one) is resized with Pillow so its shorter side is 256 px (Lanczos) and
saved as an RGB JPEG at quality 85 (grayscale photos keep three equal channels, so every image
decodes to RGB). Run from the repository root: python3 data/photos/prepare.py
"""
import os
import skimage
from PIL import Image

SRC = os.path.join(os.path.dirname(skimage.__file__), 'data')
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'images')

# name -> (skimage file, crop box (left, top, right, bottom) in source pixels or None)
PHOTOS = {
    'astronaut': ('astronaut.png', None),
    'astronaut-face': ('astronaut.png', (100, 0, 356, 300)),
    'chelsea': ('chelsea.png', None),
    'coffee': ('coffee.png', None),
    'coffee-cup': ('coffee.png', (170, 0, 480, 330)),
    'rocket': ('rocket.jpg', None),
    'rocket-pad': ('rocket.jpg', (200, 120, 440, 427)),
    'hubble': ('hubble_deep_field.jpg', None),
    'hubble-detail': ('hubble_deep_field.jpg', (0, 0, 400, 400)),
    'retina': ('retina.jpg', None),
    'retina-disc': ('retina.jpg', (40, 435, 440, 835)),
    'camera': ('camera.png', None),
    'brick': ('brick.png', None),
    'grass': ('grass.png', None),
    'gravel': ('gravel.png', None),
    'clock': ('clock_motion.png', None),
}

SHORT_SIDE = 256

os.makedirs(OUT, exist_ok=True)
for name, (file, box) in PHOTOS.items():
    image = Image.open(os.path.join(SRC, file)).convert('RGB')
    if box:
        image = image.crop(box)
    w, h = image.size
    scale = SHORT_SIDE / min(w, h)
    image = image.resize((round(w * scale), round(h * scale)), Image.LANCZOS)
    image.save(os.path.join(OUT, f'{name}.jpg'), quality=85, optimize=True)
    print(f'{name}.jpg {image.size[0]}x{image.size[1]}')
