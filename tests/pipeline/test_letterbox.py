import numpy as np
import pytest

from siteguard.pipeline.letterbox import PAD_VALUE, letterbox, preprocess, reletterbox, unletterbox


@pytest.mark.parametrize(
    "shape", [(352, 640), (480, 848), (640, 480), (333, 500), (64, 64), (1080, 1920)]
)
@pytest.mark.parametrize("size", [(640, 640), (416, 416), (320, 480)])
def test_round_trip_maps_boxes_back_to_source_pixels(shape, size):
    h, w = shape
    img = np.zeros((h, w, 3), np.uint8)
    out, meta = letterbox(img, size)
    assert out.shape == (*size, 3)
    rng = np.random.default_rng(0)
    x1 = rng.uniform(0, w - 2, 50)
    y1 = rng.uniform(0, h - 2, 50)
    boxes = np.stack([x1, y1, x1 + rng.uniform(1, w - x1), y1 + rng.uniform(1, h - y1)], 1).astype(
        np.float32
    )
    boxes[:, 2] = np.minimum(boxes[:, 2], w)
    boxes[:, 3] = np.minimum(boxes[:, 3], h)
    back = unletterbox(reletterbox(boxes, meta), meta)
    np.testing.assert_allclose(back, boxes, atol=1e-3)


def test_content_lands_inside_the_padding_and_padding_is_grey():
    img = np.full((100, 200, 3), 255, np.uint8)  # wide white image
    out, meta = letterbox(img, (200, 200))
    assert meta.scale == pytest.approx(1.0) and meta.pad_x == 0 and meta.pad_y == 50
    assert (out[:50] == PAD_VALUE).all() and (out[150:] == PAD_VALUE).all()
    assert (out[50:150] == 255).all()


def test_unletterbox_clips_to_the_source_image():
    img = np.zeros((100, 200, 3), np.uint8)
    _, meta = letterbox(img, (200, 200))
    boxes = np.array([[-10, 0, 250, 210]], np.float32)  # spills into the padding
    np.testing.assert_allclose(unletterbox(boxes, meta), [[0, 0, 200, 100]])


def test_blob_is_rgb_scaled_nchw():
    img = np.zeros((32, 32, 3), np.uint8)
    img[..., 0] = 255  # blue in BGR
    blob, metas = preprocess([img, img], (32, 32))
    assert blob.shape == (2, 3, 32, 32) and blob.dtype == np.float32
    assert blob[0, 2].max() == pytest.approx(1.0)  # blue is the last RGB channel
    assert blob[0, 0].max() == 0.0
    assert len(metas) == 2


def test_rejects_non_colour_images():
    with pytest.raises(ValueError, match="BGR"):
        letterbox(np.zeros((10, 10), np.uint8), (32, 32))
