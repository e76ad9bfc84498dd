"""image-classification, computed by a small Keras convolutional network.

Formats as on AWS: `train` and `validation` channels holding MXNet RecordIO (`.rec`,
content type application/x-recordio), or the image layout (content type
application/x-image): image files in `train` / `validation` plus one im2rec `.lst` file
in `train_lst` / `validation_lst`. Labels are class indices 0..num_classes-1. The log
carries MXNet's lines (`Epoch[3] Train-accuracy=0.81`, `Epoch[3] Validation-accuracy=0.75`)
and the job's metrics are `train:accuracy` and `validation:accuracy`. Endpoints take one
JPEG or PNG per request (image/jpeg, image/png, application/x-image) and answer the class
probabilities: a JSON list, or `{"prediction": [...]}` as JSON lines (batch transform's
default, as the book shows).

Differences, said plainly: AWS trains a ResNet of `num_layers` layers (optionally from
ImageNet weights, `use_pretrained_model=1`); offline a three-block CNN is trained from
scratch whatever `num_layers` says, since no pretrained weights ship with any package we
may install. Images are resized to `image_shape` (after `resize`, if given) instead of
being randomly cropped; `augmentation_type` adds Keras' random flips, shifts and colour
changes. `precision_dtype`, `kv_store` and `checkpoint_frequency` are accepted and change
nothing offline. Multi-label training and incremental training (a `model` channel) are not
emulated: such jobs fail with a ClientError saying so.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from . import recordio
from .base import Channel, ClientError, Hyperparameter as H, Log, media_type, check_stop

REPOSITORIES = ("image-classification",)
# "For image classification, we support P2, P3, G4dn, and G5 instances" for training; CPU or
# GPU for inference (SageMaker Developer Guide, image-classification.html, EC2 instance
# recommendation). Offline the CNN trains on this machine's CPU whatever is asked.
TRAINING_INSTANCES = "gpu"
LAYER_CHOICES = {18, 34, 50, 101, 152, 200, 20, 32, 44, 56, 110}
HYPERPARAMETERS = {
    "num_classes": H(int, low=2),
    "num_training_samples": H(int, low=1),
    "image_shape": H(str, "3,224,224"),
    "num_layers": H(int, 152, choices=LAYER_CHOICES),
    "epochs": H(int, 30, low=1),
    "mini_batch_size": H(int, 32, low=1),
    "learning_rate": H(float, 0.1, low=1e-6, high=1.0),
    "optimizer": H(str, "sgd", choices={"sgd", "adam", "rmsprop", "nag"}),
    "momentum": H(float, 0.9, low=0, high=1),
    "weight_decay": H(float, 0.0001, low=0, high=1),
    "beta_1": H(float, 0.9, low=0, high=1),
    "beta_2": H(float, 0.999, low=0, high=1),
    "eps": H(float, 1e-8, low=0, high=1),
    "gamma": H(float, 0.9, low=0, high=1),
    "lr_scheduler_factor": H(float, 0.1, low=0, high=1),
    "lr_scheduler_step": H(str, None),
    "augmentation_type": H(str, None, choices={"crop", "crop_color", "crop_color_transform"}),
    "resize": H(int, None, low=1),
    "top_k": H(int, None, low=2),
    "early_stopping": H(bool, False),
    "early_stopping_min_epochs": H(int, 10, low=1),
    "early_stopping_patience": H(int, 5, low=1),
    "early_stopping_tolerance": H(float, 0.0, low=0, high=1),
    "multi_label": H(int, 0, low=0, high=1),
    "use_pretrained_model": H(int, 0, low=0, high=1),
    "use_weighted_loss": H(int, 0, low=0, high=1),
    "checkpoint_frequency": H(int, None, low=1),
    "precision_dtype": H(str, "float32", choices={"float32", "float16"}),
    "kv_store": H(str, None, choices={"dist_sync", "dist_async"}),
}
MODEL_FILE = "image-classification.keras"
INFO_FILE = "model-shapes.json"
RECORDIO = "application/x-recordio"
IMAGE_TYPES = {"application/x-image", "image/jpeg", "image/png"}
JSON, JSONLINES = "application/json", "application/jsonlines"


# ---------------------------------------------------------------- images
def parse_shape(text: str) -> tuple[int, int, int]:
    """'3,224,224' -> (channels, height, width)."""
    try:
        channels, height, width = (int(v) for v in text.split(","))
    except ValueError:
        raise ClientError(f"image_shape must be 'channels,height,width', e.g. '3,224,224', got {text!r}") from None
    if channels not in (1, 3) or height < 8 or width < 8:
        raise ClientError(f"image_shape {text!r}: channels must be 1 or 3 and sides at least 8 pixels")
    return channels, height, width


def decode(image: bytes, shape: tuple[int, int, int], resize: int | None = None) -> np.ndarray:
    """Encoded JPEG/PNG bytes -> a height x width x channels uint8 array."""
    from PIL import Image, UnidentifiedImageError

    channels, height, width = shape
    try:
        picture = Image.open(io.BytesIO(image))
        picture = picture.convert("RGB" if channels == 3 else "L")
    except (UnidentifiedImageError, OSError):
        raise ClientError("unable to decode the image: send JPEG or PNG bytes") from None
    if resize:  # shorter side to `resize` pixels first, as the algorithm's `resize` does
        scale = resize / min(picture.size)
        picture = picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))))
    if picture.size != (width, height):
        picture = picture.resize((width, height), Image.BILINEAR)
    return np.asarray(picture, dtype=np.uint8).reshape(height, width, channels)


# ---------------------------------------------------------------- training data
def _examples(channels: dict[str, Channel], name: str) -> list[tuple[list[float], bytes]]:
    """(labels, encoded image) pairs of the `train` or `validation` channel."""
    channel = channels[name]
    kind = media_type(channel.content_type, RECORDIO)
    if kind == RECORDIO:
        pairs = []
        for path in channel.data_files():
            try:
                pairs += [(r.labels, r.image) for r in recordio.read_images(path)]
            except recordio.RecordIOError as err:
                raise ClientError(f"channel '{name}', {path.name}: {err}") from None
        return pairs
    if kind in IMAGE_TYPES:
        lst_channel = channels.get(f"{name}_lst")
        if lst_channel is None:
            raise ClientError(f"with content type {kind}, a '{name}_lst' channel must hold the .lst "
                              f"file listing the '{name}' images")
        pairs = []
        for lst in lst_channel.data_files():
            try:
                entries = recordio.read_lst(lst)
            except recordio.RecordIOError as err:
                raise ClientError(f"channel '{name}_lst': {err}") from None
            for _, labels, relative in entries:
                path = channel.path / relative
                if not path.is_file():
                    raise ClientError(f"channel '{name}_lst' lists {relative}, which is not in channel '{name}'")
                pairs.append((labels, path.read_bytes()))
        return pairs
    raise ClientError(f"channel '{name}': content type {kind!r} is not supported "
                      f"(use {RECORDIO}, or application/x-image with a '{name}_lst' channel)")


def _arrays(pairs, hp: dict, shape, name: str) -> tuple[np.ndarray, np.ndarray]:
    if not pairs:
        raise ClientError(f"channel '{name}' holds no images")
    if any(len(labels) != 1 for labels, _ in pairs):
        raise ClientError(f"channel '{name}' has multi-label records; multi_label is not emulated offline")
    y = np.asarray([labels[0] for labels, _ in pairs])
    if not np.all((y == np.round(y)) & (y >= 0) & (y < hp["num_classes"])):
        raise ClientError(f"channel '{name}': labels must be class indices 0..{hp['num_classes'] - 1} "
                          f"(num_classes={hp['num_classes']}), found {sorted(set(y.tolist()))[:10]}")
    X = np.stack([decode(image, shape, hp["resize"]) for _, image in pairs])
    return X, y.astype(np.int64)


# ---------------------------------------------------------------- the network
def build_network(num_classes: int, shape, augmentation: str | None):
    """Three convolution blocks and a softmax: the offline stand-in for ResNet."""
    import keras
    from keras import layers

    channels, height, width = shape
    extra = []
    if augmentation:
        extra += [layers.RandomFlip("horizontal"), layers.RandomTranslation(0.1, 0.1)]
    if augmentation in ("crop_color", "crop_color_transform"):
        extra += [layers.RandomBrightness(0.2, value_range=(0, 1)), layers.RandomContrast(0.2)]
    if augmentation == "crop_color_transform":
        extra += [layers.RandomRotation(0.05), layers.RandomZoom(0.1)]
    blocks = []
    for filters in (32, 64, 64):
        blocks += [layers.Conv2D(filters, 3, padding="same", activation="relu"), layers.MaxPooling2D()]
    # LayerNormalization over the whole image = per-image standardisation (brightness, contrast)
    return keras.Sequential([keras.Input((height, width, channels)), layers.Rescaling(1 / 255),
                             layers.LayerNormalization(axis=(1, 2, 3)), *extra, *blocks, layers.Flatten(),
                             layers.Dropout(0.3), layers.Dense(num_classes, activation="softmax")],
                            name="image_classification")


def _optimizer(hp: dict):
    import keras

    rate, decay = hp["learning_rate"], hp["weight_decay"] or None
    if hp["optimizer"] in ("sgd", "nag"):
        return keras.optimizers.SGD(rate, momentum=hp["momentum"], nesterov=hp["optimizer"] == "nag",
                                    weight_decay=decay)
    if hp["optimizer"] == "adam":
        return keras.optimizers.Adam(rate, beta_1=hp["beta_1"], beta_2=hp["beta_2"], epsilon=hp["eps"],
                                     weight_decay=decay)
    return keras.optimizers.RMSprop(rate, rho=hp["gamma"], epsilon=hp["eps"], weight_decay=decay)


def _schedule(hp: dict):
    """lr_scheduler_step '10,20': multiply the rate by lr_scheduler_factor at those epochs."""
    if not hp["lr_scheduler_step"]:
        return None
    try:
        steps = sorted(int(s) for s in hp["lr_scheduler_step"].split(",") if s.strip())
    except ValueError:
        raise ClientError(f"lr_scheduler_step must be epochs separated by commas, got {hp['lr_scheduler_step']!r}") from None
    return lambda epoch: hp["learning_rate"] * hp["lr_scheduler_factor"] ** sum(epoch >= s for s in steps)


def _check(channels: dict[str, Channel], hp: dict) -> None:
    for name in ("train", "validation"):
        if name not in channels:
            raise ClientError(f"image-classification needs a '{name}' channel")
    if hp["multi_label"]:
        raise ClientError("multi_label=1 is not emulated offline")
    if "model" in channels:
        raise ClientError("incremental training (a 'model' channel) is not emulated offline")


def train(channels: dict[str, Channel], hp: dict, model_dir: Path, log: Log, context=None) -> dict[str, float]:
    _check(channels, hp)
    shape = parse_shape(hp["image_shape"])
    X, y = _arrays(_examples(channels, "train"), hp, shape, "train")
    Xv, yv = _arrays(_examples(channels, "validation"), hp, shape, "validation")
    log(f"[train] {len(y)} images, [validation] {len(yv)} images, shape {hp['image_shape']}, "
        f"{hp['num_classes']} classes")
    if hp["num_training_samples"] != len(y):
        log(f"num_training_samples={hp['num_training_samples']} but the train channel holds {len(y)} images")
    log(f"[localaws] a 3-block Keras CNN stands in for ResNet-{hp['num_layers']}"
        + (" (no pretrained weights offline: trained from scratch)" if hp["use_pretrained_model"] else ""))

    import keras

    keras.utils.set_random_seed(0)
    network = build_network(hp["num_classes"], shape, hp["augmentation_type"])
    metrics = ["accuracy"]
    if hp["top_k"]:
        metrics.append(keras.metrics.SparseTopKCategoricalAccuracy(hp["top_k"], name=f"top_k_accuracy_{hp['top_k']}"))
    network.compile(optimizer=_optimizer(hp), loss="sparse_categorical_crossentropy", metrics=metrics)
    callbacks = [_epoch_logger(log)]
    schedule = _schedule(hp)
    if schedule:
        callbacks.append(keras.callbacks.LearningRateScheduler(schedule))
    if hp["early_stopping"]:
        callbacks.append(keras.callbacks.EarlyStopping(
            "val_accuracy", min_delta=hp["early_stopping_tolerance"], patience=hp["early_stopping_patience"],
            start_from_epoch=hp["early_stopping_min_epochs"], mode="max"))
    weights = None
    if hp["use_weighted_loss"]:
        counts = np.bincount(y, minlength=hp["num_classes"])
        weights = {c: len(y) / (hp["num_classes"] * n) for c, n in enumerate(counts) if n}
    class StopWhenAsked(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if context is not None and context.stop_reason():
                self.model.stop_training = True

    history = network.fit(X, y, batch_size=hp["mini_batch_size"], epochs=hp["epochs"], validation_data=(Xv, yv),
                          class_weight=weights, callbacks=[*callbacks, StopWhenAsked()], verbose=0).history
    check_stop(context)
    model_dir.mkdir(parents=True, exist_ok=True)
    network.save(model_dir / MODEL_FILE)
    (model_dir / INFO_FILE).write_text(json.dumps([{"shape": [hp["mini_batch_size"], *shape], "name": "data"}]))
    return {"train:accuracy": float(history["accuracy"][-1]),
            "validation:accuracy": float(history["val_accuracy"][-1])}


def _epoch_logger(log: Log):
    """A Keras callback printing each epoch's metrics in the real algorithm's log lines."""
    import keras

    class EpochLog(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            for key, value in (logs or {}).items():
                if key not in ("loss", "val_loss", "learning_rate"):
                    where = "Validation" if key.startswith("val_") else "Train"
                    log(f"Epoch[{epoch}] {where}-{key.removeprefix('val_')}={value:.6f}")

    return EpochLog()


# ---------------------------------------------------------------- serving
class ImageClassifier:
    def __init__(self, network, batch: bool):
        self.network = network
        _, height, width, channels = network.input_shape
        self.shape = (channels, height, width)
        self.default_accept = JSONLINES if batch else JSON

    def probabilities(self, image: bytes) -> list[float]:
        X = decode(image, self.shape)[None]
        return [float(p) for p in np.asarray(self.network(X, training=False))[0]]  # no predict() overhead

    def predict(self, body: bytes, content_type: str | None, accept: str | None) -> tuple[bytes, str]:
        kind = media_type(content_type, "application/x-image")
        if kind not in IMAGE_TYPES:
            raise ClientError(f"content type {kind!r} is not supported: send one JPEG or PNG image "
                              f"as {', '.join(sorted(IMAGE_TYPES))}")
        probabilities = self.probabilities(body)
        answer = media_type(accept if accept and accept != "*/*" else None, self.default_accept)
        if answer == JSON:
            return json.dumps(probabilities).encode(), JSON
        if answer == JSONLINES:
            return (json.dumps({"prediction": probabilities}) + "\n").encode(), JSONLINES
        raise ClientError(f"accept type {answer!r} is not supported (use {JSON} or {JSONLINES})")


def load(model_dir: Path, environment: dict | None = None) -> ImageClassifier:
    path = model_dir / MODEL_FILE
    if not path.exists():
        raise ClientError(f"model.tar.gz has no {MODEL_FILE}: was it trained by image-classification offline?")
    import keras

    batch = str((environment or {}).get("SAGEMAKER_BATCH", "")).lower() == "true"
    return ImageClassifier(keras.models.load_model(path), batch)
