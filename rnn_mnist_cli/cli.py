"""The command line: parse options, call one library function, print with Rich.

Results go to stdout (so `--json` pipes cleanly); progress and errors go to stderr.
TensorFlow is imported only inside `train`, so everything else starts instantly.
"""

from __future__ import annotations

import contextlib
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from . import __version__
from .config import DIGITS
from .errors import RnnMnistError

app = typer.Typer(
    name="rnn-mnist",
    help="Train, evaluate and use a recurrent network that reads a digit one pixel row at a time.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

ModelOption = Annotated[
    Optional[Path],
    typer.Option(
        "--model",
        "-m",
        help="Checkpoint file (.npz). Default: train makes runs/NNN/model.npz; eval and predict use the newest run.",
        show_default=False,
    ),
]
DataDirOption = Annotated[
    Optional[Path],
    typer.Option(
        "--data-dir",
        help="A directory with the four MNIST-layout IDX files (gzipped or not), e.g. Fashion-MNIST. "
        "Default: the MNIST copy shipped with the tool.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout instead of tables.")]


@contextlib.contextmanager
def _reported() -> Iterator[None]:
    """Errors meant for the user become one red line on stderr and their exit code."""
    try:
        yield
    except RnnMnistError as error:
        _error_line(str(error))
        raise typer.Exit(error.exit_code) from None


def _show(renderable: Any) -> None:
    """Print a result on stdout; when piped, wide enough that long file names stay on one line."""
    (out if out.is_terminal else Console(highlight=False, width=200)).print(renderable)


def _error_line(message: str) -> None:
    err.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        out.print(f"rnn-mnist {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Train, evaluate and use a recurrent network that reads a digit one pixel row at a time.

    rnn-mnist train && rnn-mnist eval && rnn-mnist predict examples/digit-7.png
    """


def _model_path(model: Path | None) -> Path:
    from .runs import latest_model

    return model if model is not None else latest_model()


@app.command()
def train(
    model: ModelOption = None,
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Passes over the training set. [default: 10]", show_default=False)] = None,
    batch_size: Annotated[Optional[int], typer.Option(min=1, help="Images per gradient step. [default: 150]", show_default=False)] = None,
    learning_rate: Annotated[Optional[float], typer.Option(min=1e-9, help="Adam's step size. [default: 0.001]", show_default=False)] = None,
    units: Annotated[Optional[int], typer.Option(min=1, help="Recurrent state size. [default: 150]", show_default=False)] = None,
    seed: Annotated[Optional[int], typer.Option(min=0, help="Seed for weights and shuffling; same seed, same weights. [default: 42]", show_default=False)] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Train on only the first N training images (quick trials).", show_default=False)] = None,
    data_dir: DataDirOption = None,
    preset: Annotated[Optional[str], typer.Option(help="Recipe: 'seed' (the original model) or 'accurate' (the best row-by-row reader). Other options override it. [default: seed]", show_default=False)] = None,
    cell: Annotated[Optional[str], typer.Option(help="Recurrent cell: rnn, gru or lstm. [default: rnn]", show_default=False)] = None,
    layers: Annotated[Optional[int], typer.Option(min=1, help="Stacked recurrent layers. [default: 1]", show_default=False)] = None,
    bidirectional: Annotated[Optional[bool], typer.Option("--bidirectional/--unidirectional", help="Also read the rows bottom to top. [default: unidirectional]", show_default=False)] = None,
    dropout: Annotated[Optional[float], typer.Option(min=0.0, max=0.95, help="Dropout after each recurrent layer, training only. [default: 0]", show_default=False)] = None,
    schedule: Annotated[Optional[str], typer.Option(help="Learning rate over the run: constant or cosine. [default: constant]", show_default=False)] = None,
    clipnorm: Annotated[Optional[float], typer.Option(min=1e-9, help="Clip each gradient to this norm. [default: none]", show_default=False)] = None,
    shift: Annotated[Optional[int], typer.Option(min=0, max=8, help="Augment: shift training digits by up to N pixels. [default: 0]", show_default=False)] = None,
    strategy: Annotated[Optional[str], typer.Option(help="Distribute training with tf.distribute: 'mirrored' (this machine's devices) or 'multiworker' (processes or hosts listed in TF_CONFIG; only the chief writes).", show_default=False)] = None,
    tensorboard: Annotated[bool, typer.Option("--tensorboard", help="Also log per-epoch metrics for TensorBoard (into the run folder's tensorboard/).")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its last completed epoch (the newest run unless --model).")] = False,
    json_output: JsonOption = False,
) -> None:
    """Train the network and save a checkpoint after every epoch.

    The defaults are the original example's model: a basic RNN of 150 units over
    28 rows of 28 pixels, Adam at 0.001, batches of 150, 10 epochs, the last 5,000
    training images held out for validation. The checkpoint keeps the weights with
    the best validation accuracy.

    Example: rnn-mnist train --epochs 1 --limit 5000
    """
    from . import runs
    from .train import is_chief, prepare
    from .train import run as run_training

    options: dict[str, Any] = {
        name: value
        for name, value in {
            "epochs": epochs,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "units": units,
            "seed": seed,
            "limit": limit,
            "data_dir": str(data_dir.resolve()) if data_dir is not None else None,
            "preset": preset,
            "cell": cell,
            "layers": layers,
            "bidirectional": bidirectional,
            "dropout": dropout,
            "schedule": schedule,
            "clipnorm": clipnorm,
            "shift": shift,
        }.items()
        if value is not None
    }
    with _reported():
        run_dir: Path | None = None
        if model is not None:
            path = model
        elif resume:
            path = runs.latest_model()
        job = prepare(options, path if resume else None)
        chief = is_chief(strategy)
        if model is None and not resume and not chief:
            path = Path(runs.MODEL_FILE)  # a non-chief worker trains in step but writes nothing
        elif model is None and not resume:
            run_dir = runs.new_run()
            path = run_dir / runs.MODEL_FILE
        else:
            run_dir = runs.run_folder(path)  # resuming a run folder: keep its files current
        on_saved = (lambda checkpoint: runs.write_run_files(run_dir, checkpoint)) if run_dir else None
        logs = (run_dir / "tensorboard" if run_dir else path.with_name(f"{path.stem}-tensorboard")) if tensorboard else None
        # A preempted VM or `kill` sends SIGTERM: stop as cleanly as on Ctrl-C.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            with _TrainingProgress(f"{'Resuming' if resume else 'Training'} → {path}") as reporter:
                checkpoint = run_training(job, path, reporter=reporter, on_saved=on_saved, tensorboard=logs, strategy=strategy)
        finally:
            if run_dir is not None and not resume and not any(run_dir.iterdir()):
                run_dir.rmdir()  # nothing was saved: leave no empty run behind
            elif run_dir is not None and (run_dir / runs.MODEL_FILE).exists():
                from .checkpoint import load
                from .plots import curves

                curves(load(run_dir / runs.MODEL_FILE).history, run_dir / "curves.png")
    best = checkpoint.best_record or {}
    if not chief:
        err.print(f"worker finished {checkpoint.epochs_done} epochs; the chief wrote the checkpoint")
        return
    if json_output:
        summary = {
            "model": str(path),
            "epochs": checkpoint.epochs_done,
            "best_epoch": checkpoint.best_epoch,
            "val_accuracy": best.get("val_accuracy"),
            "history": checkpoint.history,
            "config": checkpoint.config.to_dict(),
        }
        if out.is_terminal:
            out.print_json(json.dumps(summary))
        else:
            print(json.dumps(summary))
        return
    table = Table(title="Training summary", title_justify="left")
    for column in ("epoch", "loss", "accuracy", "val loss", "val accuracy", "time"):
        table.add_column(column, justify="right")
    for record in checkpoint.history:
        mark = " ★" if record["epoch"] == checkpoint.best_epoch else ""
        table.add_row(
            f"{record['epoch']}{mark}",
            f"{record['loss']:.4f}",
            f"{record['accuracy']:.2%}",
            f"{record['val_loss']:.4f}",
            f"{record['val_accuracy']:.2%}",
            f"{record['seconds']:.1f}s",
        )
    _show(table)
    out.print(
        f"Saved {escape(str(path))} (best epoch {checkpoint.best_epoch}, "
        f"validation accuracy {best.get('val_accuracy', 0):.2%}). Next: rnn-mnist eval",
        soft_wrap=True,
    )


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class _TrainingProgress:
    """Rich progress on stderr: a bar per epoch, then one line of metrics per epoch."""

    def __init__(self, heading: str) -> None:
        self.heading: str | None = heading  # printed once training has really started

    def __enter__(self) -> _TrainingProgress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[metrics]}"),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            refresh_per_second=4,  # redraws cost Python time the training loop needs
        )
        self.bar.__enter__()
        self.task: Any = None
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.__exit__(*exc)

    def epoch_started(self, epoch: int, epochs: int, steps: int) -> None:
        if self.heading:
            self.bar.console.print(Text(self.heading, style="bold"), soft_wrap=True)
            self.heading = None
        if self.task is not None:
            self.bar.remove_task(self.task)
        self.task = self.bar.add_task(f"epoch {epoch}/{epochs}", total=steps, metrics="")

    def progress(self, steps_done: int, loss: float, accuracy: float) -> None:
        self.bar.update(self.task, completed=steps_done, metrics=f"loss {loss:.4f} acc {accuracy:.2%}")

    def epoch_finished(self, record: dict[str, Any], improved: bool) -> None:
        self.bar.console.print(
            f"epoch {record['epoch']:>2}  loss {record['loss']:.4f}  acc {record['accuracy']:.2%}  "
            f"val_loss {record['val_loss']:.4f}  val_acc {record['val_accuracy']:.2%}  "
            f"{record['seconds']:.1f}s" + ("  [green]saved best[/]" if improved else ""),
            soft_wrap=True,
        )


@app.command("eval")
def evaluate(
    model: ModelOption = None,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
    plot: Annotated[bool, typer.Option("--plot", help="Write confusion_matrix.png into the run folder (or beside --model).")] = False,
    errors: Annotated[int, typer.Option("--errors", min=0, metavar="N", help="Write errors.png: the N most confidently wrong test images.")] = 0,
) -> None:
    """Report test accuracy, per-class precision/recall/F1 and the confusion matrix.

    Runs on the 10,000 test images of the data the model was trained on (or
    --data-dir), in NumPy: no TensorFlow start-up. For a run folder's model the
    result is also saved as eval.json, which `rnn-mnist runs` shows.

    Example: rnn-mnist eval --json | jq .accuracy
    """
    from . import checkpoint as ckpt
    from . import runs
    from .evaluate import evaluate as run_evaluation

    with _reported():
        path = _model_path(model)
        checkpoint = ckpt.load(path)
        report = run_evaluation(checkpoint, data_dir)
        result = {"model": str(path), **report.to_dict()}
        written = []
        run = runs.run_folder(path)
        if run is not None and data_dir is None:
            runs.write_json(run / runs.EVAL_FILE, result)
        if plot:
            from .plots import confusion

            title = f"{path}: test accuracy {report.accuracy:.2%}"
            written.append(confusion(report.confusion, report.class_names, runs.output_name(path, "confusion_matrix.png"), title))
        if errors:
            from .plots import error_grid

            chosen = report.confident_errors(errors)
            names = report.class_names
            written.append(
                error_grid(
                    report.inputs[chosen],
                    [names[i] for i in report.labels[chosen]],
                    [names[i] for i in report.probabilities[chosen].argmax(axis=1)],
                    report.probabilities[chosen].max(axis=1),
                    runs.output_name(path, "errors.png"),
                )
            )
    for picture in written:
        err.print(f"wrote {escape(str(picture))}", soft_wrap=True)
    if json_output:
        print(json.dumps(result))
        return
    names = report.class_names
    summary = Table(title=f"Test accuracy of {escape(str(path))}", title_justify="left")
    summary.add_column("class")
    for column in ("precision", "recall", "F1", "support"):
        summary.add_column(column, justify="right")
    for i, name in enumerate(names):
        summary.add_row(
            escape(name), f"{report.precision[i]:.2%}", f"{report.recall[i]:.2%}", f"{report.f1[i]:.2%}", str(int(report.support[i]))
        )
    summary.add_section()
    summary.add_row("[bold]accuracy", "", "", f"[bold]{report.accuracy:.2%}", f"{report.examples}")
    _show(summary)
    _show(_confusion_table(report.confusion, names))


def _confusion_table(confusion: Any, names: list[str]) -> Table:
    """Rows are the true class, columns the predicted one; off-diagonal cells shade by count."""
    table = Table(title="Confusion matrix (rows: true, columns: predicted)", title_justify="left")
    table.add_column("", style="bold")
    for name in names:
        table.add_column(escape(name[:8]), justify="right")
    worst = max(1, max(int(confusion[i, j]) for i in range(len(names)) for j in range(len(names)) if i != j) if len(names) > 1 else 1)
    for i, name in enumerate(names):
        cells = []
        for j in range(len(names)):
            count = int(confusion[i, j])
            if i == j:
                cells.append(f"[bold green]{count}[/]")
            elif count == 0:
                cells.append("[dim]·[/]")
            else:
                # Heat: the more confusions, the redder the cell's background.
                fade = int(200 * (1 - count / worst))
                cells.append(f"[black on rgb(255,{fade + 40},{fade + 40})]{count:>4}[/]")
        table.add_row(escape(name[:8]), *cells)
    return table


@app.command("runs")
def list_runs(json_output: JsonOption = False) -> None:
    """List training runs: model, epochs, best validation accuracy and test accuracy.

    Test accuracy appears once `rnn-mnist eval` has evaluated the run. Runs live in
    runs/ under the current directory, or in $RNN_MNIST_RUNS.

    Example: rnn-mnist runs --json
    """
    from . import runs

    rows = runs.summaries()
    if json_output:
        print(json.dumps(rows))
        return
    if not rows:
        err.print(f"no runs in {escape(str(runs.root()))}/ yet; start one with: rnn-mnist train", soft_wrap=True)
        return

    def percent(value: Any) -> str:
        return f"{value:.2%}" if isinstance(value, float) else "—"

    table = Table(title=f"Runs in {escape(str(runs.root()))}", title_justify="left")
    for column in ("run", "model", "preset", "data", "epochs", "best val acc", "test acc", "trained"):
        table.add_column(column, justify="right" if "acc" in column else "left")
    for row in rows:
        if "error" in row:
            table.add_row(row["run"], f"[red]{escape(row['error'])}[/]", "", "", "", "", "", "")
            continue
        table.add_row(
            row["run"], row["model"], row["preset"], escape(row["data"]), row["epochs"],
            percent(row["best_val_accuracy"]), percent(row["test_accuracy"]), row["trained"],
        )
    _show(table)


@app.command()
def predict(
    images: Annotated[list[str], typer.Argument(help="PNG/JPEG/... files, directories of images, or glob patterns.", show_default=False)],
    model: ModelOption = None,
    json_output: Annotated[bool, typer.Option("--json", help='One JSON object per image per line: "path", "digit", "confidence", "probabilities" (or "error").')] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Skip MNIST-style cropping, scaling and centring; only resize to 28x28.")] = False,
    show: Annotated[bool, typer.Option("--show", help="Draw each 28x28 input as the network saw it.")] = False,
) -> None:
    """Read digit images and print the predicted digit with its probability.

    Any size, colour or format Pillow reads; dark ink on light paper is inverted.
    Each image's 28 rows are the network's 28 timesteps. Exit code 2 if any
    image could not be read (the others are still predicted).

    Example: rnn-mnist predict examples/*.png --json
    """
    import numpy as np

    from . import checkpoint as ckpt
    from . import images as imaging
    from . import infer

    with _reported():
        path = _model_path(model)
        checkpoint = ckpt.load(path)
    names = checkpoint.config.class_names
    paths, problems = imaging.expand_paths(images)
    failures: list[tuple[str, str]] = list(problems)
    inputs: list[tuple[str, Any]] = []
    for image_path in paths:
        try:
            inputs.append((str(image_path), imaging.load(image_path, raw=raw)))
        except RnnMnistError as error:
            failures.append((str(image_path), str(error)))
    results = []
    if inputs:
        probabilities = infer.softmax(infer.logits(checkpoint.config, checkpoint.best, np.stack([x for _, x in inputs])))
        results = [(name, x, p) for (name, x), p in zip(inputs, probabilities)]
    for _, message in failures:
        _error_line(message)
    if json_output:
        for name, _, p in results:
            best = int(p.argmax())
            # "digit" is the predicted class's name (a digit for MNIST); "class" its index.
            print(json.dumps({"path": name, "digit": names[best], "class": best, "confidence": float(p[best]), "probabilities": [float(v) for v in p]}))
        for argument, message in failures:
            print(json.dumps({"path": argument, "error": message}))
    if show:
        console = err if json_output else out
        for name, x, _ in results:
            console.print(Text(name, style="bold"))
            console.print(_render(x, colour=console.color_system is not None))
    if not json_output and results:
        table = Table(title=None)
        table.add_column("file")
        table.add_column("digit" if names == DIGITS else "class", justify="center", style="bold")
        table.add_column("confidence", justify="right")
        table.add_column("top 3")
        for name, _, p in results:
            order = p.argsort()[::-1]
            table.add_row(
                escape(name),
                escape(names[order[0]]),
                f"{p[order[0]]:.1%}",
                "  ".join(f"{escape(names[k])} {p[k]:.1%}" for k in order[:3]),
            )
        _show(table)
    if failures:
        raise typer.Exit(2)


SHADES = " .:-=+*#%@"


def _render(pixels: Any, colour: bool = True) -> Text:
    """28x28 intensities as 14 lines of half-block characters (two pixel rows per line),
    or, without colour, 28 lines of ASCII shades (two characters a pixel, for square-ish cells)."""
    text = Text()
    if not colour:
        for row in pixels:
            text.append("".join(SHADES[min(9, int(v * 10))] * 2 for v in row).rstrip() + "\n")
        return text
    for row in range(0, pixels.shape[0], 2):
        for col in range(pixels.shape[1]):
            top = int(pixels[row, col] * 255)
            bottom = int(pixels[row + 1, col] * 255) if row + 1 < pixels.shape[0] else 0
            text.append("▀", style=f"rgb({top},{top},{top}) on rgb({bottom},{bottom},{bottom})")
        text.append("\n")
    return text


def main() -> None:
    app()
