"""Chapter 9's picture of a classifier's answers, drawn the same way for the Keras CNN and for
SageMaker's image-classification algorithm so the two can be compared at a glance."""
from __future__ import annotations

import numpy as np


def plot_top_classes(images, probabilities, actual, class_names, k: int = 3, title: str | None = None):
    """One column per image: the image above, its `k` most likely classes below as bars of
    their probabilities, the true class in green. `class_names` are Caltech-style folder names
    (`003.two`); the bars show the part after the number."""
    import matplotlib.pyplot as plt

    probabilities, actual = np.asarray(probabilities), np.asarray(actual)
    fig, axes = plt.subplots(2, len(images), figsize=(2.3 * len(images), 4.4), squeeze=False)
    for column, (image, row, truth) in enumerate(zip(images, probabilities, actual)):
        axes[0, column].imshow(image)
        axes[0, column].set_title(class_names[truth], fontsize=9)
        axes[0, column].axis("off")
        top = np.argsort(row)[::-1][:k][::-1]  # most likely at the top of the bar chart
        axes[1, column].barh([class_names[c].split(".", 1)[-1] for c in top], row[top],
                             color=["tab:green" if c == truth else "tab:grey" for c in top])
        axes[1, column].set_xlim(0, 1)
        axes[1, column].tick_params(labelsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
