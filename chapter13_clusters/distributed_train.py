"""Entry point of the chapter 13 distributed SageMaker TensorFlow job.

With `distribution={"multi_worker_mirrored_strategy": {"enabled": True}}` and several
instances, SageMaker starts this script on every instance and describes the cluster in
TF_CONFIG. `MultiWorkerMirroredStrategy` keeps a copy of the model on every worker; each
step, every worker computes gradients on its share of the global batch, an all-reduce sums
them across workers, and all copies take the same gradient-descent step. On one instance
(no TF_CONFIG) the same code uses `MirroredStrategy` over that instance's devices.

The loop is written with `strategy.run` rather than Keras `fit`: Keras 3's `fit` does not
support MultiWorkerMirroredStrategy (keras-team/keras#20585). The model is the book's linear
regressor, trained by plain gradient descent as its `GradientDescentOptimizer` was.
"""
import argparse
import json
import os
import tempfile

import numpy as np
import pandas as pd
import tensorflow as tf

FEATURES = ["crim", "zn", "indus", "chas", "nox", "rm", "age", "dis", "tax", "ptratio", "lstat"]
LABEL = "medv"


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--global_batch_size", type=int, default=64)
    parser.add_argument("--learning_rate", type=float, default=0.05)
    parser.add_argument("--model_dir", type=str)  # S3 path from the SDK; unused
    parser.add_argument("--train", type=str, default=os.environ.get("SM_CHANNEL_TRAINING"))
    args, _ = parser.parse_known_args()
    return args


def strategy_and_role():
    """The strategy, this worker's index and whether it is the chief (the one whose model is kept)."""
    if "TF_CONFIG" in os.environ:
        task = json.loads(os.environ["TF_CONFIG"])["task"]
        return tf.distribute.MultiWorkerMirroredStrategy(), task["index"], task["index"] == 0
    return tf.distribute.MirroredStrategy(), 0, True


class LinearRegressor(tf.Module):
    """medv = standardised features · w + b; served with the input name 'inputs'."""

    def __init__(self, mean, std, label_mean):
        super().__init__()
        self.mean, self.std = tf.constant(mean), tf.constant(std)
        # MEAN: the replicas' (identical) updates are averaged into every copy
        self.w = tf.Variable(tf.zeros([len(FEATURES), 1]), aggregation=tf.VariableAggregation.MEAN)
        self.b = tf.Variable([label_mean], aggregation=tf.VariableAggregation.MEAN)

    @tf.function(input_signature=[tf.TensorSpec([None, len(FEATURES)], tf.float32, name="inputs")])
    def __call__(self, inputs):
        return tf.matmul((inputs - self.mean) / self.std, self.w) + self.b


if __name__ == "__main__":
    args = parse_args()
    strategy, index, is_chief = strategy_and_role()
    print(f"worker {index}: {strategy.num_replicas_in_sync} replicas in sync, chief={is_chief}")
    frame = pd.concat(pd.read_csv(os.path.join(args.train, f)) for f in sorted(os.listdir(args.train)))
    X, y = frame[FEATURES].to_numpy("float32"), frame[LABEL].to_numpy("float32")

    # every worker reads all rows and keeps its own share of each global batch
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = (tf.data.Dataset.from_tensor_slices((X, y)).shuffle(len(X), seed=42)
               .batch(args.global_batch_size, drop_remainder=True).repeat().with_options(options))
    batches = iter(strategy.experimental_distribute_dataset(dataset))
    steps_per_epoch = len(X) // args.global_batch_size

    with strategy.scope():  # variables created here are mirrored on every replica
        model = LinearRegressor(X.mean(axis=0), X.std(axis=0) + 1e-6, float(y.mean()))

    @tf.function
    def train_step(batch):
        def replica_step(features, labels):
            with tf.GradientTape() as tape:
                errors = tf.square(model(features)[:, 0] - labels)
                loss = tf.nn.compute_average_loss(errors, global_batch_size=args.global_batch_size)
            gradients = tape.gradient(loss, [model.w, model.b])
            gradients = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, gradients)
            model.w.assign_sub(args.learning_rate * gradients[0])
            model.b.assign_sub(args.learning_rate * gradients[1])
            return loss

        losses = strategy.run(replica_step, args=batch)
        return strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)

    for epoch in range(args.epochs):
        loss = np.mean([train_step(next(batches)).numpy() for _ in range(steps_per_epoch)])
        if epoch % max(1, args.epochs // 5) == 0 or epoch == args.epochs - 1:
            print(f"epoch {epoch + 1}: train_mse={loss:.4f}")

    # every worker takes part in saving; only the chief's copy goes to SM_MODEL_DIR
    target = os.environ["SM_MODEL_DIR"] if is_chief else tempfile.mkdtemp()
    tf.saved_model.save(model, os.path.join(target, "1"), signatures={"serving_default": model.__call__})
