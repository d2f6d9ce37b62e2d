"""The corpus store: Parquet shards of articles, MinHash shards, clusters and a manifest.

Layout under ``data/corpus/``::

    manifest.json            schema version, shards, counts, languages, sources, content hash
    articles/<run>.parquet   the articles of one ingest run
    minhash/<run>.arrow      their MinHash signatures and LSH band hashes (Arrow IPC, memory-mapped)
    clusters.parquet         near-duplicate cluster of every article
    rejects/<run>.jsonl      what an ingest run could not use, and why

A run writes its shards to temporary files and renames them; the manifest is
replaced last, so an interrupted run leaves the store as it was. Shards that no
manifest lists, and temporary files, are removed by the next run. Every writer holds
the store's lock (``.lock``), so two runs never meet. ``clusters.parquet`` records the
content hash it was computed for: clusters left stale by a run killed after its commit
are recomputed by the next run or the next reader.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from core.errors import NewslabError
from core.files import AtomicFile, atomic_open, atomic_write
from core.locks import lock
from corpus.dedup import DedupParams, cluster
from corpus.records import Article, Reject

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
CLUSTERS = "clusters.parquet"
LOCK = ".lock"
#: seconds a reader that finds stale clusters waits for a running ingest (which will recompute them)
REPAIR_WAIT = 600.0

ARTICLE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("key", pa.uint64()),
        ("title", pa.string()),
        ("text", pa.string()),
        ("lang", pa.string()),
        ("lang_score", pa.float32()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("published", pa.string()),
        ("licence", pa.string()),
        ("attribution", pa.string()),
        ("author", pa.string()),
        ("word_count", pa.int32()),
        ("source_file", pa.string()),
        ("source_line", pa.int32()),
        ("sentence_starts", pa.list_(pa.int32())),
    ]
)


@contextmanager
def named(path: Path) -> Iterator[None]:
    """Let an OSError from writing ``path`` name it (Arrow's and raw writes' do not), for a one-line
    message such as "No space left on device: data/corpus/articles/...parquet"."""
    try:
        yield
    except OSError as exc:
        if getattr(exc, "filename", None) or not exc.errno:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc


class KeyIndex:
    """Set membership for 64-bit article keys in 8 bytes a key (a sorted array plus a small buffer)."""

    def __init__(self, keys: np.ndarray) -> None:
        self.base = np.unique(keys.astype(np.uint64))
        self.pending: set[int] = set()

    def __contains__(self, key: int) -> bool:
        if key in self.pending:
            return True
        i = np.searchsorted(self.base, key)
        return bool(i < len(self.base) and self.base[i] == key)

    def add(self, key: int) -> None:
        self.pending.add(key)
        if len(self.pending) >= 100_000:
            self.base = np.union1d(self.base, np.fromiter(self.pending, dtype=np.uint64))
            self.pending.clear()


class Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.manifest = self._read_manifest()

    # -- reading ---------------------------------------------------------
    def _read_manifest(self) -> dict:
        path = self.root / MANIFEST
        if not path.exists():
            return {"schema_version": SCHEMA_VERSION, "runs": [], "count": 0}
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise NewslabError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg}).") from None
        if manifest.get("schema_version") != SCHEMA_VERSION:
            raise NewslabError(
                f"{path}: corpus schema version {manifest.get('schema_version')} "
                f"(this newslab reads version {SCHEMA_VERSION})."
            )
        return manifest

    @property
    def article_files(self) -> list[Path]:
        return [self.root / run["articles"] for run in self.manifest["runs"]]

    @property
    def minhash_files(self) -> list[Path]:
        return [self.root / run["minhash"] for run in self.manifest["runs"]]

    def __len__(self) -> int:
        return int(self.manifest["count"])

    def column(self, name: str) -> np.ndarray:
        parts = [pq.read_table(f, columns=[name]).column(0).to_numpy() for f in self.article_files]
        return np.concatenate(parts) if parts else np.array([], dtype=object)

    def keys(self) -> np.ndarray:
        return self.column("key").astype(np.uint64) if self.article_files else np.array([], np.uint64)

    def texts(self, ids: Iterable[str]) -> dict[str, str]:
        """article id -> text, for the ids the store has (a text model's input, e.g. CROWDLAB's)."""
        wanted = sorted({str(i) for i in ids})
        return {r["id"]: r["text"] for r in self.table(["id", "text"], ids=wanted).to_pylist()}

    def table(self, columns: list[str] | None = None, ids: list[str] | None = None) -> pa.Table:
        """The articles (only those with the given ids, read with a Parquet filter, when given)."""
        if not self.article_files:
            return ARTICLE_SCHEMA.empty_table().select(columns or ARTICLE_SCHEMA.names)
        filters = [("id", "in", list(ids))] if ids is not None else None
        return pa.concat_tables(
            pq.read_table(f, columns=columns, filters=filters) for f in self.article_files
        )

    def get(self, article_id: str) -> dict:
        for path in self.article_files:
            table = pq.read_table(path, filters=[("id", "=", article_id)])
            if table.num_rows:
                row = table.to_pylist()[0]
                row["cluster"] = self.cluster_of(article_id)
                return row
        raise NewslabError(f"no article {article_id!r} in the corpus at {self.root}.")

    def _ids_of(self, rows: np.ndarray) -> dict[int, str]:
        """The ids of some rows (store order), streaming the id column instead of loading it."""
        wanted = np.sort(rows)
        out: dict[int, str] = {}
        start = 0
        for path in self.article_files:
            for batch in pq.ParquetFile(path).iter_batches(columns=["id"], batch_size=65_536):
                lo, hi = np.searchsorted(wanted, [start, start + batch.num_rows])
                if hi > lo:
                    picked = batch.column(0).take(pa.array(wanted[lo:hi] - start)).to_pylist()
                    out.update(zip(wanted[lo:hi].tolist(), picked, strict=True))
                start += batch.num_rows
        return out

    def lock(self, wait: float | None = None) -> AbstractContextManager[None]:
        """The store's writer lock: held by every ingest from reading the manifest to re-clustering."""
        return lock(self.root / LOCK, f"the corpus store {self.root}", wait=wait)

    def reload(self) -> None:
        self.manifest = self._read_manifest()

    def clusters_stale(self) -> bool:
        """Whether ``clusters.parquet`` was computed for other content than the manifest lists."""
        if not self.manifest["runs"]:
            return False
        path = self.root / CLUSTERS
        try:
            metadata = pq.read_schema(path).metadata or {}
        except (OSError, pa.ArrowInvalid):
            return True
        return metadata.get(b"content_hash", b"").decode() != self.manifest.get("content_hash")

    def ensure_clusters(self) -> dict[str, int]:
        """Recompute the clusters if they are stale (a run killed between its commit and re-clustering)."""
        with self.lock(wait=REPAIR_WAIT):
            self.reload()
            if self.clusters_stale():
                return self.recluster(self.dedup_params())
        return {}

    def dedup_params(self) -> DedupParams:
        dedup = self.manifest.get("dedup") or {}
        return DedupParams(**{k: dedup[k] for k in ("num_perm", "threshold", "shingle") if k in dedup})

    def clusters(self) -> pa.Table:
        if self.clusters_stale():
            self.ensure_clusters()
        path = self.root / CLUSTERS
        if not path.exists():
            return pa.table(
                {
                    "id": pa.array([], pa.string()),
                    "cluster": pa.array([], pa.string()),
                    "cluster_size": pa.array([], pa.int32()),
                }
            )
        return pq.read_table(path)

    def cluster_of(self, article_id: str) -> dict:
        table = self.clusters().filter(pc.equal(pc.field("id"), article_id))
        if not table.num_rows:
            return {"cluster": article_id, "cluster_size": 1, "members": [article_id]}
        cluster_id = table.column("cluster")[0].as_py()
        members = self.clusters().filter(pc.equal(pc.field("cluster"), cluster_id))
        return {
            "cluster": cluster_id,
            "cluster_size": members.num_rows,
            "members": members.column("id").to_pylist(),
        }

    # -- writing ---------------------------------------------------------
    def run_writer(self, params: DedupParams) -> RunWriter:
        return RunWriter(self, params)

    def remove_orphans(self) -> None:
        """Remove shards no manifest lists and temporary files of killed runs (only under the lock:
        another run's files in progress look just the same)."""
        with self.lock():
            listed = {run[k] for run in self.manifest["runs"] for k in ("articles", "minhash")}
            for folder in ("articles", "minhash"):
                for path in (self.root / folder).glob("*"):
                    if f"{folder}/{path.name}" not in listed:
                        path.unlink(missing_ok=True)
            for folder in (self.root, self.root / "rejects"):
                for path in folder.glob(".*.tmp"):
                    path.unlink(missing_ok=True)

    def recluster(self, params: DedupParams) -> dict[str, int]:
        """Recompute near-duplicate clusters over the whole store.

        Band hashes are read one band at a time and signatures only for candidate
        rows, each through a memory map that is closed again, so memory stays flat
        as the store grows.
        """
        with self.lock():
            return self._recluster(params)

    def _recluster(self, params: DedupParams) -> dict[str, int]:
        files = self.minhash_files
        if not files:
            return {"clusters": 0, "articles_in_clusters": 0}
        sizes = [run["count"] for run in self.manifest["runs"]]
        offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        n = int(offsets[-1])

        readers = {f: pa.ipc.open_file(pa.OSFile(str(f))) for f in files}  # plain reads: no mmap
        batch_starts = {}
        for f, reader in readers.items():
            lengths = [reader.get_batch(i).num_rows for i in range(reader.num_record_batches)]
            batch_starts[f] = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)

        def signature_of(rows: np.ndarray) -> np.ndarray:
            """Gather the signatures of some rows, reading only the record batches that hold them."""
            shard = np.searchsorted(offsets, rows, side="right") - 1
            out = np.empty((len(rows), params.num_perm), dtype=np.uint32)
            for s in np.unique(shard):
                in_shard = np.flatnonzero(shard == s)
                local = rows[in_shard] - offsets[s]
                starts = batch_starts[files[s]]
                batch_of = np.searchsorted(starts, local, side="right") - 1
                for b in np.unique(batch_of):
                    pick = batch_of == b
                    column = readers[files[s]].get_batch(int(b)).column("sig")
                    sigs = column.values.to_numpy().reshape(-1, params.num_perm)
                    out[in_shard[pick]] = sigs[local[pick] - starts[b]]
            return out

        def band(b: int) -> np.ndarray:
            name = f"b{b:02d}"
            parts = [ds.dataset(str(f), format="ipc").to_table(columns=[name]).column(0) for f in files]
            return np.concatenate([p.to_numpy() for p in parts])

        bands = (band(b) for b in range(params.bands[0]))
        labels = cluster(n, bands, signature_of, params)
        counts = np.bincount(labels, minlength=n).astype(np.int32)
        in_cluster = counts[labels] > 1
        members = np.flatnonzero(in_cluster)
        leaders = labels[members]
        ids = self._ids_of(np.union1d(members, leaders))
        clusters = pa.table(
            {
                "id": pa.array([ids[r] for r in members], pa.string()),
                "cluster": pa.array([ids[r] for r in leaders], pa.string()),
                "cluster_size": pa.array(counts[leaders], pa.int32()),
            }
        ).replace_schema_metadata({"content_hash": self.manifest.get("content_hash", "")})
        path = self.root / CLUSTERS
        with named(path), atomic_open(path) as fh:
            pq.write_table(clusters, fh)
        return {"clusters": int((counts > 1).sum()), "articles_in_clusters": int(in_cluster.sum())}


class RunWriter:
    """Writes one ingest run; ``commit`` publishes it, anything else leaves the store unchanged.

    Create it, write and commit while holding the store's lock. A failed write or commit (a full
    disk, say) removes every file of the run and raises an OSError naming the file.
    """

    def __init__(self, store: Store, params: DedupParams) -> None:
        self.store = store
        self.params = params
        self.run = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        for folder in ("articles", "minhash", "rejects"):
            with named(store.root / folder):
                (store.root / folder).mkdir(mode=0o755, parents=True, exist_ok=True)
        store.remove_orphans()
        self.articles_path = store.root / "articles" / f"{self.run}.parquet"
        self.minhash_path = store.root / "minhash" / f"{self.run}.arrow"
        self._files: list[AtomicFile] = []
        self._published: list[Path] = []  #: files of this run already renamed into place
        self._parquet: pq.ParquetWriter | None = None
        self._ipc: pa.RecordBatchFileWriter | None = None
        b, _ = params.bands
        self._minhash_schema = pa.schema(
            [("key", pa.uint64())]
            + [(f"b{i:02d}", pa.uint64()) for i in range(b)]
            + [("sig", pa.list_(pa.uint32(), params.num_perm))]
        )
        try:
            with named(self.articles_path):
                self._articles = self._atomic(self.articles_path)
                self._parquet = pq.ParquetWriter(self._articles.file, ARTICLE_SCHEMA, compression="zstd")
            with named(self.minhash_path):
                self._minhash = self._atomic(self.minhash_path)
                self._ipc = pa.ipc.new_file(self._minhash.file, self._minhash_schema)
        except BaseException:
            self.abort()
            raise
        self.count = 0
        self.languages: Counter[str] = Counter()
        self.sources: Counter[str] = Counter()
        self.rejects: list[Reject] = []

    def _atomic(self, path: Path) -> AtomicFile:
        atomic = AtomicFile(path)
        self._files.append(atomic)
        return atomic

    def write(self, articles: list[Article], sigs: np.ndarray, bands: np.ndarray) -> None:
        if not articles:
            return
        rows = [asdict(a) for a in articles]
        with named(self.articles_path):
            self._parquet.write_table(pa.Table.from_pylist(rows, schema=ARTICLE_SCHEMA))
        columns = [pa.array(np.array([a.key for a in articles], dtype=np.uint64))]
        columns += [pa.array(bands[:, i]) for i in range(bands.shape[1])]
        flat = pa.array(sigs.reshape(-1), pa.uint32())
        columns.append(pa.FixedSizeListArray.from_arrays(flat, self.params.num_perm))
        with named(self.minhash_path):
            self._ipc.write_batch(pa.record_batch(columns, schema=self._minhash_schema))
        self.count += len(articles)
        self.languages.update(a.lang for a in articles)
        self.sources.update(a.source for a in articles)

    def reject(self, reject: Reject) -> None:
        self.rejects.append(reject)

    def _close(self) -> None:
        writers, self._parquet, self._ipc = (self._parquet, self._ipc), None, None
        for writer, path in zip(writers, (self.articles_path, self.minhash_path), strict=True):
            if writer is not None:
                with named(path):
                    writer.close()

    def abort(self) -> None:
        """Remove every file of this run, even when closing fails (a full disk fails it again)."""
        with suppress(Exception):
            self._close()
        for atomic in self._files:
            with suppress(OSError):
                atomic.discard()
        for path in self._published:
            with suppress(OSError):
                path.unlink(missing_ok=True)
        self._files, self._published = [], []

    def commit(self, inputs: list[str]) -> dict:
        try:
            return self._commit(inputs)
        except BaseException:
            self.abort()
            raise

    def _publish(self, path: Path, data: str | None = None, atomic: AtomicFile | None = None) -> None:
        with named(path):
            if atomic is not None:
                atomic.commit()
            else:
                atomic_write(path, data or "")
        self._published.append(path)

    def _commit(self, inputs: list[str]) -> dict:
        self._close()
        store, manifest = self.store, dict(self.store.manifest)
        if self.rejects:
            lines = "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in self.rejects)
            self._publish(store.root / "rejects" / f"{self.run}.jsonl", lines)
        if self.count == 0:
            for atomic in self._files:
                atomic.discard()
            self._files = []
            return manifest
        articles = f"articles/{self.run}.parquet"
        minhash = f"minhash/{self.run}.arrow"
        self._publish(self.articles_path, atomic=self._articles)
        self._publish(self.minhash_path, atomic=self._minhash)
        runs = [
            *manifest["runs"],
            {
                "run": self.run,
                "articles": articles,
                "minhash": minhash,
                "count": self.count,
                "inputs": inputs,
            },
        ]
        languages = Counter(manifest.get("languages", {})) + self.languages
        sources = Counter(manifest.get("sources", {})) + self.sources
        manifest.update(
            schema_version=SCHEMA_VERSION,
            runs=runs,
            count=int(manifest.get("count", 0)) + self.count,
            languages=dict(languages.most_common()),
            sources=dict(sources.most_common()),
            dedup={
                "num_perm": self.params.num_perm,
                "threshold": self.params.threshold,
                "shingle": self.params.shingle,
                "bands": list(self.params.bands),
            },
            updated=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        previous, store.manifest = store.manifest, manifest
        try:
            keys = np.sort(store.keys())
            manifest["content_hash"] = hashlib.sha256(keys.tobytes()).hexdigest()
            with named(store.root / MANIFEST):
                atomic_write(store.root / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
        except BaseException:
            store.manifest = previous
            raise
        self._files, self._published = [], []  # published: no longer this run's to remove
        return manifest
