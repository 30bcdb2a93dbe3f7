"""Training: the original recipe, checkpointed every epoch, resumable.

Shuffling is drawn from NumPy with the seed and the epoch number, so a resumed
run sees exactly the batches an uninterrupted one would have seen.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from . import checkpoint as ckpt
from .config import Config, from_options
from .data import Split, bundled_data_dir, class_names, load_split, train_validation
from .errors import EXIT_INTERRUPTED, BadInput, RnnMnistError, RuntimeFailure
from .infer import check_weights, softmax

# Steps run inside one compiled call: enough to hide Python's per-call overhead,
# few enough that the progress bar still moves several times a second.
STEPS_PER_CALL = 32
# XLA compiles the unrolled 28-step forward pass, its gradient and Adam into one fused
# program: steady epochs 0.95 s against 1.10 s without, for ~2 s of compilation once.
# The batch is fetched with tf.gather, not slicing: a slice's start would be a
# compile-time constant to XLA and force one compilation per call.
JIT_COMPILE = True


class Interrupted(RnnMnistError):
    """Ctrl-C: the last completed epoch is saved; the message says how to resume."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_INTERRUPTED)


class Reporter(Protocol):
    def epoch_started(self, epoch: int, epochs: int, steps: int) -> None: ...
    def progress(self, steps_done: int, loss: float, accuracy: float) -> None: ...
    def epoch_finished(self, record: dict[str, Any], improved: bool) -> None: ...


class SilentReporter:
    def epoch_started(self, epoch: int, epochs: int, steps: int) -> None:
        pass

    def progress(self, steps_done: int, loss: float, accuracy: float) -> None:
        pass

    def epoch_finished(self, record: dict[str, Any], improved: bool) -> None:
        pass


def plan(path: Path, options: dict[str, Any], resume: bool) -> tuple[Config, ckpt.Checkpoint | None]:
    """The configuration to train with, and the checkpoint to continue from (if resuming).

    `options` holds only what the user gave explicitly, so a bare `--resume`
    continues with the saved configuration.
    """
    unknown = set(options) - set(Config().to_dict())
    if unknown:
        raise BadInput(f"unknown training options: {', '.join(sorted(unknown))}")
    if not resume:
        if options.get("data_dir") and "class_names" not in options:
            options["class_names"] = class_names(Path(options["data_dir"]))
        return from_options(options), None
    previous = ckpt.load(path, training_state=True)
    check_weights(previous.config, previous.last, f"{path} (last epoch's weights)")
    config = replace(previous.config, **options)
    config.validate()
    differences = previous.config.differences(config)
    if differences:
        raise BadInput(f"{path}: cannot resume with other settings: {'; '.join(differences)}")
    if previous.epochs_done >= config.epochs:
        raise BadInput(
            f"{path}: this run already finished {previous.epochs_done} of {config.epochs} epochs; "
            f"pass a larger --epochs to train further"
        )
    return config, previous


def load_training_data(config: Config) -> tuple[Split, Split]:
    directory = Path(config.data_dir) if config.data_dir else bundled_data_dir()
    return train_validation(load_split(directory, "train", len(config.class_names)), config.limit)


def epoch_order(config: Config, epoch: int, count: int) -> np.ndarray:
    """The shuffled order of epoch `epoch` (1-based): a pure function of seed and epoch."""
    return np.random.default_rng([config.seed, epoch]).permutation(count)


@dataclass
class Job:
    """Everything checked and loaded before any file is touched or TensorFlow imported."""

    config: Config
    previous: ckpt.Checkpoint | None  # the checkpoint being resumed, if any
    train_split: Split
    validation: Split


def prepare(options: dict[str, Any] | None = None, resume_from: Path | None = None) -> Job:
    """Validate options, read the resumed checkpoint and load the data: every user error surfaces here."""
    config, previous = plan(Path(resume_from or "."), dict(options or {}), resume_from is not None)
    train_split, validation = load_training_data(config)
    if len(train_split.labels) == 0:
        raise BadInput("no training images (is --limit 0?)")
    return Job(config, previous, train_split, validation)


def shifted(images: np.ndarray, most: int, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by its own random (dy, dx) in [-most, most], zeros shifted in.

    MNIST digits sit centred with a 4-pixel margin, so small shifts keep them whole.
    """
    out = np.zeros_like(images)
    offsets = rng.integers(-most, most + 1, size=(len(images), 2))
    side = images.shape[1]
    for dy in range(-most, most + 1):
        for dx in range(-most, most + 1):
            chosen = np.flatnonzero((offsets[:, 0] == dy) & (offsets[:, 1] == dx))
            if len(chosen) == 0:
                continue
            rows_to, rows_from = slice(max(0, dy), side + min(0, dy)), slice(max(0, -dy), side + min(0, -dy))
            cols_to, cols_from = slice(max(0, dx), side + min(0, dx)), slice(max(0, -dx), side + min(0, -dx))
            out[chosen, rows_to, cols_to] = images[chosen, rows_from, cols_from]
    return out


def train(
    path: Path,
    options: dict[str, Any] | None = None,
    resume: bool = False,
    reporter: Reporter | None = None,
    on_saved: Callable[[ckpt.Checkpoint], None] | None = None,
) -> ckpt.Checkpoint:
    """Train (or continue training) and keep the checkpoint at `path` current after every epoch."""
    return run(prepare(options, Path(path) if resume else None), Path(path), reporter, on_saved)


def run(
    job: Job,
    path: Path,
    reporter: Reporter | None = None,
    on_saved: Callable[[ckpt.Checkpoint], None] | None = None,
    tensorboard: Path | None = None,
    strategy: str | None = None,
) -> ckpt.Checkpoint:
    """Run a prepared job, saving the checkpoint at `path` atomically after every epoch.

    With `tensorboard`, per-epoch scalars are also logged there for TensorBoard.
    With `strategy` ("mirrored" or "multiworker"), training runs under tf.distribute;
    only the chief writes the checkpoint and the logs.
    """
    reporter = reporter or SilentReporter()
    chief = is_chief(strategy)
    if chief:
        ckpt.check_writable(path)
    config, previous, train_split, validation = job.config, job.previous, job.train_split, job.validation

    from . import model as network  # TensorFlow: imported only when training

    tf, keras = network.tf, network.keras
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    distribution = _distribution(tf, strategy)
    batch = config.batch_size
    count = len(train_split.labels)
    steps = -(-count // batch)
    with distribution.scope() if distribution else contextlib.nullcontext():
        model = network.build(config)
        learning_rate: Any = config.learning_rate
        if config.schedule == "cosine":
            learning_rate = keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=config.epochs * steps)
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=config.clipnorm)
        optimizer.build(model.trainable_variables)
    # What --resume must restore besides the weights: Adam's moments and step count, and
    # the random-number state of dropout layers (so a resumed run draws the same masks).
    training_state = list(optimizer.variables) + list(model.non_trainable_variables)

    checkpoint = ckpt.Checkpoint(config=config, best={})
    if previous is not None:
        network.set_weights(model, previous.last)
        if len(previous.optimizer) != len(training_state):
            raise RuntimeFailure(f"{path}: checkpoint's optimiser state does not fit this model")
        for variable, value in zip(training_state, previous.optimizer):
            variable.assign(value)
        checkpoint = replace(previous, config=config, last={}, optimizer=[])

    if distribution is None:
        train_epoch = _compiled_epochs(tf, model, optimizer, config, count, reporter)
    else:
        train_epoch = _distributed_epochs(tf, distribution, model, optimizer, config, reporter)

    @tf.function
    def predict_logits(x: Any) -> Any:
        return model(x, training=False)

    validation_x = validation.images.astype(np.float32) / 255.0
    summaries = tf.summary.create_file_writer(str(tensorboard)) if tensorboard is not None and chief else None
    for epoch in range(checkpoint.epochs_done + 1, config.epochs + 1):
        try:
            started = time.perf_counter()
            order = epoch_order(config, epoch, count)
            images, labels = train_split.images[order], train_split.labels[order]
            if config.shift:
                images = shifted(images, config.shift, np.random.default_rng([config.seed, epoch, 1]))
            reporter.epoch_started(epoch, config.epochs, steps)
            loss_sum, correct = train_epoch(images, labels)
            if not np.isfinite(loss_sum):
                raise RnnMnistError(f"training diverged at epoch {epoch} (loss is {loss_sum}); try a lower --learning-rate", 1)
            validation_logits = np.asarray(predict_logits(validation_x))
            probabilities = softmax(validation_logits)
            record = {
                "epoch": epoch,
                "seconds": round(time.perf_counter() - started, 3),
                "loss": loss_sum / count,
                "accuracy": correct / count,
                "val_loss": float(-np.mean(np.log(probabilities[np.arange(len(validation.labels)), validation.labels] + 1e-12))),
                "val_accuracy": float(np.mean(validation_logits.argmax(1) == validation.labels)),
            }
            current = network.get_weights(model)
            best = checkpoint.best_record
            improved = best is None or record["val_accuracy"] > best["val_accuracy"]
            checkpoint.history.append(record)
            checkpoint.epochs_done = epoch
            if improved:
                checkpoint.best, checkpoint.best_epoch = current, epoch
            checkpoint.last = current
            checkpoint.optimizer = [np.array(v.numpy()) for v in training_state]
            if chief:
                ckpt.save(Path(path), checkpoint)
                if summaries is not None:
                    with summaries.as_default(step=epoch):
                        for key in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds"):
                            tf.summary.scalar(key, record[key])
                    summaries.flush()
                if on_saved is not None:
                    on_saved(checkpoint)
            reporter.epoch_finished(record, improved)
        except KeyboardInterrupt:
            saved = checkpoint.epochs_done
            where = f"epochs 1-{saved} are saved in {path}" if saved else "no epoch had completed, nothing was saved"
            raise Interrupted(
                f"interrupted during epoch {epoch}; {where}"
                + (f"; continue with: rnn-mnist train --resume --model {path}" if saved else "")
            ) from None
    return checkpoint


EpochTrainer = Callable[[np.ndarray, np.ndarray], tuple[float, float]]


def _compiled_epochs(tf: Any, model: Any, optimizer: Any, config: Config, count: int, reporter: Reporter) -> EpochTrainer:
    """The single-process trainer: XLA-compiled steps, STEPS_PER_CALL at a time."""
    batch = config.batch_size
    steps = -(-count // batch)
    padded = steps * batch
    # The epoch's shuffled images live in variables, stored as uint8 (4x less to copy),
    # so each compiled call gets only (first step, step count) and never recompiles.
    images_var = tf.Variable(np.zeros((steps, batch, 28, 28), np.uint8), trainable=False)
    labels_var = tf.Variable(np.zeros((steps, batch), np.int32), trainable=False)
    # The last batch is padded to full size with zero-weight examples: one shape, one trace.
    weights_var = tf.Variable(np.zeros((steps, batch), np.float32), trainable=False)

    @tf.function(jit_compile=JIT_COMPILE)
    def run_steps(first: Any, count: Any) -> Any:
        def body(i: Any, loss_sum: Any, correct: Any) -> Any:
            step = first + i
            x = tf.cast(tf.gather(images_var, step), tf.float32) / 255.0
            y = tf.gather(labels_var, step)
            w = tf.gather(weights_var, step)
            with tf.GradientTape() as tape:
                logits = model(x, training=True)
                losses = tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits) * w
                loss = tf.reduce_sum(losses) / tf.reduce_sum(w)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            hits = tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32), y), tf.float32) * w
            return i + 1, loss_sum + tf.reduce_sum(losses), correct + tf.reduce_sum(hits)

        zero = tf.constant(0.0)
        _, loss_sum, correct = tf.while_loop(lambda i, *_: i < count, body, (tf.constant(0), zero, zero))
        return loss_sum, correct

    def train_epoch(images: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
        padded_images = np.zeros((padded, 28, 28), np.uint8)
        padded_labels = np.zeros(padded, np.int32)
        weights = np.zeros(padded, np.float32)
        padded_images[:count], padded_labels[:count], weights[:count] = images, labels, 1.0
        images_var.assign(padded_images.reshape(steps, batch, 28, 28))
        labels_var.assign(padded_labels.reshape(steps, batch))
        weights_var.assign(weights.reshape(steps, batch))
        loss_sum = correct = 0.0
        for first in range(0, steps, STEPS_PER_CALL):
            done = min(steps, first + STEPS_PER_CALL)
            call_loss, call_correct = run_steps(tf.constant(first), tf.constant(done - first))
            loss_sum += float(call_loss)
            correct += float(call_correct)
            seen = min(done * batch, count)
            reporter.progress(done, loss_sum / seen, correct / seen)
        return loss_sum, correct

    return train_epoch


def _distributed_epochs(tf: Any, distribution: Any, model: Any, optimizer: Any, config: Config, reporter: Reporter) -> EpochTrainer:
    """The tf.distribute trainer: every replica (device, or process with multiworker) takes
    its share of each batch; gradients are all-reduced so all replicas stay identical.

    A custom loop, because Keras 3's `fit` does not support MultiWorkerMirroredStrategy
    (keras-team/keras#20585). Each epoch drops its last partial batch, so that every
    replica runs the same number of steps.
    """
    batch = config.batch_size
    replicas = distribution.num_replicas_in_sync
    if batch % replicas:
        raise BadInput(f"--batch-size {batch} does not split evenly across {replicas} replicas")

    @tf.function
    def step(iterator: Any) -> Any:
        def replica_step(x: Any, y: Any) -> Any:
            with tf.GradientTape() as tape:
                logits = model(x, training=True)
                losses = tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits)
                loss = tf.nn.compute_average_loss(losses, global_batch_size=batch)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            hits = tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32), y), tf.float32)
            return tf.reduce_sum(losses), tf.reduce_sum(hits)

        x, y = next(iterator)
        loss_sum, hits = distribution.run(replica_step, args=(x, y))
        total = tf.distribute.ReduceOp.SUM
        return distribution.reduce(total, loss_sum, axis=None), distribution.reduce(total, hits, axis=None)

    def train_epoch(images: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
        steps = len(labels) // batch
        if steps == 0:
            raise BadInput(f"fewer training images ({len(labels)}) than one batch ({batch})")
        used = steps * batch

        def pipeline(context: Any) -> Any:
            share = slice(context.input_pipeline_id, used, context.num_input_pipelines)
            data = tf.data.Dataset.from_tensor_slices((images[share].astype(np.float32) / 255.0, labels[share].astype(np.int32)))
            return data.batch(context.get_per_replica_batch_size(batch), drop_remainder=True)

        iterator = iter(distribution.distribute_datasets_from_function(pipeline))
        loss_sum = correct = 0.0
        for done in range(1, steps + 1):
            step_loss, step_correct = step(iterator)
            loss_sum += float(step_loss)
            correct += float(step_correct)
            reporter.progress(done, loss_sum / (done * batch), correct / (done * batch))
        scale = len(labels) / used  # the record divides by all images; these sums cover `used`
        return loss_sum * scale, correct * scale

    return train_epoch


STRATEGIES = ("mirrored", "multiworker")


def is_chief(strategy: str | None) -> bool:
    """Whether this process writes checkpoints: always, except a non-chief multiworker task.

    Read from TF_CONFIG without TensorFlow, so the command line can decide before training.
    """
    if strategy is not None and strategy not in STRATEGIES:
        raise BadInput(f"unknown strategy {strategy!r} (choose from {', '.join(STRATEGIES)})")
    if strategy != "multiworker":
        return True
    if "TF_CONFIG" not in os.environ:
        raise BadInput("--strategy multiworker needs TF_CONFIG describing the cluster (see the README)")
    try:
        task = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {})
    except ValueError:
        raise BadInput("TF_CONFIG is not valid JSON") from None
    return task.get("type") == "chief" or (task.get("type", "worker") == "worker" and int(task.get("index", 0)) == 0)


def _distribution(tf: Any, strategy: str | None) -> Any:
    if strategy is None:
        return None
    if strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.MultiWorkerMirroredStrategy()
