"""`newslab annotate`: Label Studio, driven from the schema."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from annotation.label_config import label_config
from core.console import console, err_console, progress
from core.errors import NewslabError
from core.schema import load_schema
from core.settings import get_settings

app = typer.Typer(help="Annotation in Label Studio, configured from the label schema.", no_args_is_help=True)


@app.command("config")
def config_cmd(
    task: str = typer.Argument(..., help="An annotated task of the schema, e.g. stance or event_type."),
) -> None:
    """Print the Label Studio labeling config (XML) generated from the schema for TASK."""
    console.print(label_config(load_schema(get_settings().schema_path), task), markup=False)


@app.command("serve")
def serve_cmd(
    port: int = typer.Option(None, help="Port on 127.0.0.1 (default NEWSLAB_LS_PORT, 8080)."),
) -> None:
    """Start a local, headless Label Studio (SQLite under data/labelstudio) and wait until it answers."""
    from annotation import server

    with err_console.status("starting Label Studio (the first start migrates its database, ~1 min)"):
        info = server.serve(port=port)
    creds = server.credentials()
    console.print(f"Label Studio is up at [bold]{info.url}[/] (pid {info.pid}, log {info.log})")
    console.print(
        f"Log in as {creds.username}; the password is LABEL_STUDIO_PASSWORD, or the one kept in "
        f"{info.data_dir / server.CREDENTIALS}."
    )


@app.command("status")
def status_cmd() -> None:
    """Is the local Label Studio running?"""
    from annotation import server

    info = server.status()
    state = "[green]running[/]" if info.running else "[red]not running[/]"
    console.print(f"Label Studio {state} at {info.url}" + (f" (pid {info.pid})" if info.pid else ""))
    if not info.running:
        raise typer.Exit(1)


@app.command("stop")
def stop_cmd() -> None:
    """Stop the local Label Studio."""
    from annotation import server

    console.print("stopped" if server.stop() else "no local Label Studio was running")


@app.command("backend")
def backend_cmd(
    model: str = typer.Option(
        None, help="The model to serve (default: the champion of the experiment's task and dataset)."
    ),
    task: str = typer.Option(None, help="The task it serves (default: the experiment's, else the model's)."),
    experiment: str = typer.Option(
        None, help="The experiment retrained on `Start training` (a name in configs/experiments, a path)."
    ),
    port: int = typer.Option(9090, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    retrain_every: int = typer.Option(
        0, min=0, help="Also retrain after this many new annotations (0: only on `Start training`)."
    ),
    status: bool = typer.Option(
        False, "--status", help="Print what a running backend serves, and its last training."
    ),
    url: str = typer.Option(None, help="With --status: the backend's address (default http://HOST:PORT)."),
) -> None:
    """A Label Studio ML backend: predictions from a newslab model, retraining on request."""
    from newslab.backend import server
    from newslab.backend import status as backend_status

    if status:
        for line in backend_status.describe(backend_status.fetch(url or f"http://{host}:{port}")):
            console.print(line, markup=False)
        return

    def ready(address: str, ml) -> None:  # type: ignore[no-untyped-def]
        console.print(f"serving {ml.model_version} ({ml.task}) at {address}", markup=False)
        if ml.experiment:
            every = f" and every {retrain_every} new annotations" if retrain_every else ""
            console.print(f"retrains {ml.experiment} on `Start training`{every}", markup=False)
        console.print(f"connect it: newslab annotate setup --backend {address}", markup=False)

    server.serve(model, task, experiment, host, port, retrain_every, on_ready=ready)


@app.command("users")
def users_cmd(emails: list[str] = typer.Argument(..., help="Annotators' e-mail addresses.")) -> None:
    """Create annotator accounts (passwords kept in data/labelstudio/annotators.json, mode 0600)."""
    from annotation.client import connect
    from annotation.users import ensure_annotators

    annotators = ensure_annotators(connect(), emails)
    table = Table("id", "e-mail")
    for a in annotators:
        table.add_row(str(a.id), a.email)
    console.print(table)


@app.command("setup")
def setup_cmd(
    annotators: list[str] = typer.Option(
        [], "--annotator", help="Also make a sibling project per annotator."
    ),
    backend: str = typer.Option(
        None,
        "--backend",
        help="Also connect the ML backend at this URL (`newslab annotate backend`) to its task's projects, "
        "so opening a task gets its prediction.",
    ),
) -> None:
    """Create or update one project per annotated task from the schema (config validated by Label Studio)."""
    from annotation.client import connect
    from annotation.projects import setup

    schema = load_schema(get_settings().schema_path)
    info = None
    if backend:  # checked before anything is written
        from newslab.backend.connect import check_backend

        info = check_backend(backend, schema)
    conn = connect()
    results = setup(conn, schema, annotators)
    table = Table("project", "id", "action")
    for r in results:
        table.add_row(r.project.title, str(r.project.id), r.action)
    console.print(table)
    if info is not None:
        _connect_backend(conn, schema, info)


def _connect_backend(conn, schema, info) -> None:  # type: ignore[no-untyped-def]
    """`setup --backend`: the backend connected to its task's projects, a row per project."""
    from newslab.backend.connect import connect_backend

    connected = connect_backend(conn, schema, info)
    table = Table("project", "id", "ML backend", "action", "webhook", title=f"backend {info.url}")
    for c in connected:
        hook = "yes" if c.webhook else "no"
        table.add_row(c.project.title, str(c.project.id), str(c.backend_id), c.action, hook)
    console.print(table)
    console.print(f"{info.task} tasks get predictions from {info.model_version} when opened.", markup=False)
    if not all(c.webhook for c in connected):
        err_console.print(
            "[yellow]warning:[/] Label Studio refused the backend's webhook (SSRF protection): "
            "`Start training` works, --retrain-every will not see new annotations. "
            "Start Label Studio with SSRF_PROTECTION_ENABLED=false to have it."
        )


@app.command("push")
def push_cmd(
    task: str = typer.Argument(..., help="The schema task whose projects get the tasks, e.g. stance."),
    ids: Path = typer.Option(None, help="A file of article ids, one per line (default: the whole corpus)."),
    limit: int = typer.Option(None, help="At most this many articles."),
    lang: str = typer.Option(None, help="Only articles in this language."),
    predictions: Path = typer.Option(
        None, help="JSONL pre-annotations: article_id, target?, labels, score, model_version."
    ),
    model: str = typer.Option(
        None,
        help="Pre-annotate with this model (run id, models:/newslab-TASK-DATASET@champion, ...): "
        "new tasks and tasks without its version's prediction get one.",
    ),
    batch_size: int = typer.Option(5000, min=1, help="Tasks per import request."),
) -> None:
    """Import articles as tasks into the task's projects; re-running adds only what is missing."""
    from annotation.client import connect
    from annotation.projects import REVIEW, find_projects
    from annotation.push import load_predictions, make_tasks, push, read_ids, select_articles
    from corpus.ingest import corpus_dir
    from corpus.store import Store

    if model and predictions:
        raise NewslabError("give --model or --predictions, not both.")
    schema = load_schema(get_settings().schema_path)
    loaded = _serving_model(model, schema, task) if model else None  # refused before any write
    conn = connect()
    projects = [p for p in find_projects(conn, schema) if p.task == task and p.annotator != REVIEW]
    if not projects:
        raise NewslabError(
            f"no Label Studio project for task {task!r}.", "Run `newslab annotate setup` first."
        )
    wanted = read_ids(ids) if ids else None
    articles = select_articles(Store(corpus_dir()), wanted, limit, lang)
    tasks = make_tasks(schema, task, articles)
    preds = load_predictions(predictions, schema, task) if predictions else None
    if loaded is not None:
        from training.predict import prelabels

        with progress() as bar:
            bar.add_task(f"predicting {len(tasks):,} task(s) with {loaded.version}", total=None)
            preds = prelabels(loaded, tasks, task)
    for project in projects:
        with progress() as bar:
            job = bar.add_task(f"pushing to {project.title}", total=len(tasks))
            report = push(conn, project, tasks, preds, batch_size, lambda n, j=job: bar.advance(j, n))
        console.print(
            f"{project.title}: added {report.added:,}, already there {report.existing:,}, "
            f"changed (not pushed) {len(report.changed):,}"
            + (
                f"; predictions added to tasks already there {report.predicted:,}, "
                f"already had this version {report.predictions_kept:,}"
                if preds
                else ""
            )
        )
        for key in report.changed[:20]:
            err_console.print(f"  changed article, not pushed: {key}")
        if report.duplicates:
            err_console.print(
                f"[yellow]warning:[/] {project.title} has {len(report.duplicates):,} item(s) with several "
                "tasks (an earlier concurrent push?); delete the extra tasks in Label Studio, "
                "`newslab annotate verify` lists them after a pull:"
            )
            for duplicate in report.duplicates[:20]:
                err_console.print(f"  {duplicate}")


def _serving_model(model: str, schema, task: str):  # type: ignore[no-untyped-def]
    """The model ``model``, loaded and checked to predict ``task`` with the schema's labels."""
    from core import tracking
    from training.loading import check_serves, load

    tracking.connect(get_settings())
    loaded = load(model)
    check_serves(loaded, schema, task)
    return loaded


@app.command("next")
def next_cmd(
    task: str = typer.Argument(..., help="The schema task to choose items for, e.g. stance or event_type."),
    batch: int = typer.Option(20, "--batch", "-n", min=1, help="How many items to push."),
    strategy: str = typer.Option(
        "least_confidence",
        help="Query strategy: random, least_confidence, entropy, breaking_ties (single-label); "
        "label_uncertainty, label_cardinality (multi-label).",
    ),
    model: str = typer.Option(
        None, help="The model that scores the pool (default: the champion of TASK on --dataset)."
    ),
    dataset: str = typer.Option("newslab", help="Whose champion scores the pool when --model is not given."),
    seed: int = typer.Option(0, help="Seed of the random strategy, tie-breaking and clustering."),
    diversity: bool = typer.Option(
        True, "--diversity/--no-diversity", help="Spread the batch over clusters of the candidates' TF-IDF."
    ),
) -> None:
    """Push the BATCH unlabelled items most worth labelling, with the model's pre-annotations, to
    every project of TASK; log the round in MLflow and say whether the model is still changing."""
    from newslab.active.next import next_round

    def pushed(project, report) -> None:  # type: ignore[no-untyped-def]
        console.print(
            f"{project.title}: added {report.added:,}, already there {report.existing:,}", markup=False
        )

    settings = get_settings()
    report = next_round(
        task,
        batch,
        strategy,
        model,
        dataset=dataset,
        seed=seed,
        diversity=diversity,
        settings=settings,
        on_push=pushed,
    )
    pool = report.pool
    console.print(
        f"round {report.round} of {task}: {len(report.chosen)} of {len(pool.tasks):,} unlabelled items by "
        f"{strategy} with {report.model_version} ({pool.queued:,} already queued, "
        f"{pool.labelled:,} labelled, {pool.near_duplicates:,} near-duplicates of labelled items left "
        f"out); MLflow run {report.run_id}",
        markup=False,
    )
    table = Table("rank", "item", "score", "model says", title="chosen (Data Manager: sort by al_score)")
    for rank, c in enumerate(report.chosen[:15], start=1):
        table.add_row(str(rank), c.key, f"{c.score:.3f}", ", ".join(c.predicted) or "-")
    if len(report.chosen) > 15:
        table.add_row("...", f"{len(report.chosen) - 15} more", "", "")
    console.print(table)
    curve = Table(
        "round",
        "labelled",
        "model",
        "trained on",
        "validation",
        "kappa vs previous",
        title="learning curve so far",
    )
    for p in report.curve:
        value = f"{p.validation:.3f} {p.metric}" if p.validation is not None else "-"
        kappa = f"{p.kappa:.3f}" if p.kappa is not None else "-"
        curve.add_row(
            str(p.round), f"{p.labelled:,}", p.model_version, str(p.trained_on or "-"), value, kappa
        )
    console.print(curve)
    if report.signal is not None:
        console.print(report.signal.message, markup=False)


@app.command("audit")
def audit_cmd(
    task: str = typer.Argument(..., help="The schema task whose gold labels are audited, e.g. stance."),
    experiment: str = typer.Option(
        None,
        help="The experiment whose model and dataset the audit uses (default: the one of TASK on --dataset).",
    ),
    dataset: str = typer.Option(
        "newslab", help="With no --experiment: the dataset whose experiment is used."
    ),
    split: str = typer.Option("train", help="The split audited, or `all`."),
    top: int = typer.Option(50, min=1, help="At most this many flagged items go to the review project."),
    folds: int = typer.Option(5, min=2, help="Folds of the out-of-fold probabilities."),
    send: bool = typer.Option(True, "--send/--no-send", help="Send the flagged items to the review project."),
) -> None:
    """Find gold labels a model trained without them doubts (cleanlab; CROWDLAB where items have several
    annotators) and send them to the review project with every annotator's labels and the model's view."""
    from newslab.active.audit import audit_task

    report = audit_task(task, experiment, dataset, split, top, folds, send)
    flagged = int(report.table["flagged"].sum())
    console.print(
        f"{task}: {flagged} of {report.items:,} gold labels flagged ({', '.join(report.splits)} of "
        f"{report.experiment}'s dataset); ranking in {report.out}",
        markup=False,
    )
    table = Table("item", "gold", "model suggests", "quality", "why", title=f"most suspicious (top {top})")
    for f in report.flagged[:20]:
        table.add_row(f.id, ", ".join(f.gold), ", ".join(f.suggested), f"{f.quality:.2f}", f.reason)
    console.print(table)
    if report.crowdlab is not None:
        who = Table("annotator", "CROWDLAB quality", "agreement with consensus", "items", title="annotators")
        for name, row in report.crowdlab.annotators.iterrows():
            who.add_row(
                str(name),
                f"{row['quality']:.3f}",
                f"{row['agreement_with_consensus']:.3f}",
                str(row["items"]),
            )
        console.print(who)
    if report.pushed is not None:
        console.print(
            f"{report.pushed.project}: added {report.pushed.added}, "
            f"already in the queue {report.pushed.existing}",
            markup=False,
        )
    elif report.not_sent:
        err_console.print(f"[yellow]not sent:[/] {report.not_sent}")


@app.command("submit")
def submit_cmd(
    task: str = typer.Argument(..., help="A task of the schema, e.g. stance or event_type."),
    labels: Path = typer.Argument(..., help='JSONL: {"article_id", "target"?, "labels": [...]} per line.'),
    annotator: str = typer.Option(
        None, help="Submit as this annotator (made by `newslab annotate users`), in their own project."
    ),
) -> None:
    """Submit labels made away from the screen as annotations; re-running adds only what is missing."""
    from annotation.client import connect
    from annotation.projects import find_projects, title_of
    from annotation.submit import read_labels, submit
    from annotation.users import annotator_connection

    schema = load_schema(get_settings().schema_path)
    records = read_labels(labels, schema, task)
    conn = connect()
    projects = [p for p in find_projects(conn, schema) if p.task == task and p.annotator == annotator]
    if not projects:
        raise NewslabError(
            f"no Label Studio project {title_of(task, annotator)}.",
            f"Run `newslab annotate setup{' --annotator ' + annotator if annotator else ''}` and push first.",
        )
    as_user = annotator_connection(conn, annotator) if annotator else conn
    with progress() as bar:
        job = bar.add_task(f"submitting to {projects[0].title}", total=len(records))
        report = submit(as_user, projects[0], task, records, lambda n: bar.advance(job, n))
    console.print(
        f"{report.project}: added {report.added:,}, already annotated {report.existing:,}, "
        f"no such task {len(report.missing):,}"
    )
    if report.missing:
        raise NewslabError(
            f"{len(report.missing)} labelled item(s) have no task in {report.project}: "
            f"{', '.join(report.missing[:10])}{' ...' if len(report.missing) > 10 else ''}.",
            "Push those articles first (`newslab annotate push TASK --ids FILE`).",
        )


@app.command("pull")
def pull_cmd() -> None:
    """Export every project as an immutable snapshot and write the merged long tables."""
    from annotation.client import connect
    from annotation.projects import find_projects
    from annotation.pull import pull

    schema = load_schema(get_settings().schema_path)
    conn = connect()
    projects = find_projects(conn, schema)
    if not projects:
        raise NewslabError("no newslab projects in Label Studio.", "Run `newslab annotate setup` first.")
    with err_console.status("exporting"):
        result = pull(conn, schema, projects)
    for task, (frame, snapshots) in result.items():
        submitted = frame[frame["kind"] == "annotation"]
        console.print(
            f"{task}: {len(submitted):,} annotations ({int(submitted['cancelled'].sum())} skipped) by "
            f"{submitted['annotator'].nunique()} annotator(s) on {submitted['task_id'].nunique():,} tasks; "
            f"{int((frame['kind'] == 'draft').sum())} drafts, "
            f"{int((frame['kind'] == 'prediction').sum())} predictions"
        )
        for snap in snapshots:
            console.print(f"  snapshot {snap.path} (sha256 {snap.sha256[:16]}…, {snap.tasks:,} tasks)")
    console.print(f"tables in {get_settings().annotations_dir}")


@app.command("agreement")
def agreement_cmd(
    tasks: list[str] = typer.Argument(None, help="Tasks (default: every task with pulled annotations)."),
    bootstrap: int = typer.Option(1000, min=0, help="Bootstrap resamples for the 95 % intervals."),
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
    out: Path = typer.Option(None, help="Folder for the CSV and PNG (default data/annotations/agreement)."),
    accepted_predictions: str = typer.Option(
        "keep",
        help="Annotations that accepted a model's prediction unchanged: keep, or exclude (also: weight, "
        "which agreement cannot count by half, so it excludes them too).",
    ),
) -> None:
    """Inter-annotator agreement (Krippendorff's alpha, Cohen's kappa, percent) with bootstrap intervals."""
    from annotation.agreement import agreement, annotator_quality, heatmap
    from annotation.tables import read_annotations

    if accepted_predictions not in ("keep", "exclude", "weight"):
        raise NewslabError(f"--accepted-predictions {accepted_predictions}: not keep, exclude or weight.")
    settings = get_settings()
    schema = load_schema(settings.schema_path)
    out = out or settings.annotations_dir / "agreement"
    names = tasks or [t for t, spec in schema.tasks.items() if spec.annotate]
    names = [t for t in names if tasks or (settings.annotations_dir / f"{t}.parquet").exists()]
    if not names:
        raise NewslabError("no pulled annotations.", "Run `newslab annotate pull` first.")
    for task in names:
        frame = read_annotations(settings.annotations_dir / f"{task}.parquet", schema, task)
        with err_console.status(f"{task}: agreement with {bootstrap} bootstrap resamples"):
            report = agreement(
                frame, schema, task, n_boot=bootstrap, seed=seed, accepted_predictions=accepted_predictions
            )
        if report.n_annotators >= 2:
            texts = _texts(frame, settings)
            lacking = set(frame["article_id"].astype(str)) - set(texts)
            if lacking:
                err_console.print(
                    f"[yellow]![/] {task}: no CROWDLAB annotator quality: {len(lacking)} annotated "
                    f"article(s) are not in the corpus store (its text model reads them), "
                    f"e.g. {sorted(lacking)[0]}."
                )
            else:
                with err_console.status(f"{task}: CROWDLAB's annotator quality"):
                    report.rows.extend(
                        annotator_quality(
                            frame, schema, task, texts, accepted_predictions=accepted_predictions
                        )
                    )
        table = Table(
            "scope",
            "name",
            "metric",
            "value",
            "95 % CI",
            "units",
            title=f"{task}: {report.n_annotators} annotators, {report.n_units} units with 2+ annotations",
        )
        for r in report.rows:
            table.add_row(
                r.scope,
                r.name,
                r.metric,
                f"{r.value:.3f}",
                f"[{r.low:.3f}, {r.high:.3f}]" if r.low == r.low else "-",
                str(r.n_units),
            )
        console.print(table)
        out.mkdir(parents=True, exist_ok=True)
        report.frame().to_csv(out / f"{task}.csv", index=False)
        png = heatmap(report, out / f"{task}_kappa.png")
        console.print(f"wrote {out / f'{task}.csv'} and {png}")


def _texts(frame, settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """article id -> text of the annotated articles in the corpus store (CROWDLAB's model reads them)."""
    from corpus.store import Store

    return Store(settings.corpus_dir).texts(frame["article_id"])


@app.command("review")
def review_cmd(
    task: str = typer.Argument(..., help="A task of the schema, e.g. stance or event_type."),
    dataset: str = typer.Option("newslab", help="Dataset config whose `gold:` settings apply."),
    below: float = typer.Option(None, help="Agreement threshold (default: the config's gold.review_below)."),
) -> None:
    """Send the items whose annotators disagree to the review project (newslab/TASK/review)."""
    from annotation.client import connect
    from annotation.gold import gold_labels
    from annotation.review import send_to_review
    from annotation.tables import read_annotations
    from corpus.store import Store
    from dataset.config import load_dataset_config

    settings = get_settings()
    schema = load_schema(settings.schema_path)
    gold_config = load_dataset_config(dataset).gold
    if below is not None:
        gold_config = gold_config.model_copy(update={"review_below": below})
    frame = read_annotations(settings.annotations_dir / f"{task}.parquet", schema, task)
    texts = _texts(frame, settings) if gold_config.needs_texts else None
    gold = gold_labels(frame, schema, task, gold_config, texts)
    if not gold.review:
        console.print(f"{task}: no item under agreement {gold_config.review_below}; nothing to review.")
        return
    report = send_to_review(connect(), schema, task, gold.review, Store(settings.corpus_dir), settings)
    console.print(
        f"{report.project}: {len(gold.review)} item(s) under agreement {gold_config.review_below}; "
        f"added {report.added}, already in the queue {report.existing}"
    )


@app.command("verify")
def verify_cmd() -> None:
    """Check every pulled snapshot (sha256, schema labels, duplicate tasks) and table (exit 1: a problem)."""
    from annotation.verify import verify_annotations

    settings = get_settings()
    checks = verify_annotations(settings.annotations_dir, load_schema(settings.schema_path))
    if not checks:
        raise NewslabError(
            f"no pulled annotations in {settings.annotations_dir}.", "Run `newslab annotate pull`."
        )
    table = Table("file", "check", "status", "detail")
    for c in checks:
        table.add_row(c.file.name, c.check, "[green]ok[/]" if c.ok else "[red]problem[/]", c.detail)
    console.print(table)
    bad = [c for c in checks if not c.ok]
    if bad:
        raise NewslabError(
            f"{len(bad)} problem(s) in {len({c.file for c in bad})} file(s) of {settings.annotations_dir}.",
            "Pull again (`newslab annotate pull`) for edited files; delete duplicate tasks in Label Studio.",
        )
