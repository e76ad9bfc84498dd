"""Entry point of the chapter 8 SageMaker TensorFlow training job (script mode).

SageMaker runs `python tf_train.py --epochs … --model_dir s3://…` inside the TensorFlow
container, with the data of each input channel downloaded to SM_CHANNEL_<NAME> and the
directory to save the model in given as SM_MODEL_DIR. The script trains the Keras form of
the book's LinearRegressor on the house prices and exports a SavedModel (version 1) that
the TensorFlow Serving container loads.
"""
import argparse
import os

import numpy as np
import pandas as pd
import tensorflow as tf

FEATURES = ["crim", "zn", "indus", "chas", "nox", "rm", "age", "dis", "tax", "ptratio", "lstat"]
LABEL = "medv"


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--learning_rate", type=float, default=0.1)
    # the SDK passes an S3 model_dir for checkpoints; the model to serve goes to SM_MODEL_DIR
    parser.add_argument("--model_dir", type=str)
    parser.add_argument("--sm_model_dir", type=str, default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", type=str, default=os.environ.get("SM_CHANNEL_TRAINING"))
    parser.add_argument("--test", type=str, default=os.environ.get("SM_CHANNEL_TEST"))
    args, _ = parser.parse_known_args()
    return args


def read(folder):
    frame = pd.concat(pd.read_csv(os.path.join(folder, name)) for name in sorted(os.listdir(folder))
                      if name.endswith(".csv"))
    return frame[FEATURES].to_numpy("float32"), frame[LABEL].to_numpy("float32")


def build_model(features):
    """Linear regression on standardised features: one Dense unit, as LinearRegressor was."""
    normalize = tf.keras.layers.Normalization()
    normalize.adapt(features)
    inputs = tf.keras.Input(shape=(len(FEATURES),), name="inputs")
    outputs = tf.keras.layers.Dense(1, name="medv")(normalize(inputs))
    return tf.keras.Model(inputs, outputs)


if __name__ == "__main__":
    args = parse_args()
    tf.keras.utils.set_random_seed(42)
    X, y = read(args.train)
    model = build_model(X)
    model.compile(optimizer=tf.keras.optimizers.Adam(args.learning_rate), loss="mse", steps_per_execution=8)
    history = model.fit(X, y, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
    for epoch in range(0, args.epochs, max(1, args.epochs // 10)):
        print(f"epoch {epoch + 1}: train_mse={history.history['loss'][epoch]:.4f}")
    print(f"final train_mse={history.history['loss'][-1]:.4f}")

    if args.test:
        X_test, y_test = read(args.test)
        predicted = model.predict(X_test, verbose=0)[:, 0]
        rmse = float(np.sqrt(np.mean((predicted - y_test) ** 2)))
        r2 = 1 - np.sum((predicted - y_test) ** 2) / np.sum((y_test - y_test.mean()) ** 2)
        print(f"test_rmse={rmse:.4f} test_r2={r2:.4f}")

    # TensorFlow Serving loads numbered versions: <model dir>/1/saved_model.pb
    model.export(os.path.join(args.sm_model_dir, "1"), verbose=False)
