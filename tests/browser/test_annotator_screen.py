"""The annotator's and the adjudicator's screens in a real headless Chromium (selenium).

An annotator labels a stance task and an event-type task (the seed article, then a ~1,400-word
one) with hotkeys and a comment; the target's name and the choices must be in the first screen
without scrolling. A second annotator's labels come through the API; the adjudicator then sees
both in the review project, with nothing pre-ticked; ``pull`` has the labels, comment and lead
time. Screenshots of every first screen (and of a failure) go to ``NEWSLAB_SCREENSHOT_DIR``
(default ``data/screenshots``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from annotation.client import Connection
from annotation.projects import ProjectRef, find_projects, review_project, setup
from annotation.pull import pull
from annotation.push import ArticleRow, existing_tasks, make_tasks, push
from annotation.review import votes_text
from annotation.users import ensure_annotators
from core.schema import load_schema
from core.settings import PROJECT_DIR, Settings

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = [pytest.mark.server, pytest.mark.browser]

SCHEMA = load_schema()
CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
WINDOW = (1280, 857)
SEED = PROJECT_DIR.parent / "shared" / "corpus" / "seed" / "000_6e134be8f4b8ed7e.txt"
ANNOTATORS = ("ann1@example.org", "ann2@example.org")
ADJUDICATOR = "adjudicator@example.org"
TARGET = "iran"
END = "no more"  #: what the label stream says after its last task (lower case)

if not (CHROMIUM.exists() and DRIVER.exists()):
    if os.environ.get("CI"):  # .ci/run installs them: their absence is a failure there
        pytest.fail("chromium and chromium-driver are not installed", pytrace=False)
    pytest.skip("Debian's chromium and chromium-driver are not installed", allow_module_level=True)


# -- the articles -----------------------------------------------------------------------------


def _seed() -> ArticleRow:
    """The seed article (Italian, 344 words) from the mirror; a stand-in of the same size without it."""
    if SEED.is_file():
        title, body = SEED.read_text(encoding="utf-8").split("\n", 1)
        return ArticleRow("seed", title.strip(), body.strip(), "it", "seed", "https://example.org/seed")
    body = " ".join(
        "I negoziati russi per l'acquisto di missili balistici dall'Iran avanzano, dice un funzionario "
        "statunitense; Teheran ha mostrato i suoi sistemi a una delegazione russa."
        for _ in range(14)
    )
    return ArticleRow(
        "seed", "La Russia vuole missili dall'Iran", body, "it", "seed", "https://example.org/seed"
    )


def _long() -> ArticleRow:
    """A ~1,400-word article (the issue measured the choices at 2,352 px on one)."""
    paragraph = (
        "Iran and Russia signed a new agreement on Tuesday, officials in Tehran said, after weeks of "
        "talks that diplomats described as difficult. The deal covers energy, transport and, according "
        "to people familiar with it, the supply of drones and ballistic missiles. Western governments "
        "condemned the move and threatened new sanctions, while analysts said the accord mostly "
        "formalised cooperation that had been going on for more than a year."
    )
    body = "\n\n".join(f"{paragraph} (Part {i + 1}.)" for i in range(21))
    return ArticleRow("long", "Iran and Russia sign a deal", body, "en", "test", "https://example.org/long")


# -- the browser ------------------------------------------------------------------------------


@contextmanager
def chromium(shots: Path, name: str) -> Iterator[webdriver.Chrome]:
    """Headless Chromium at the issue's window size; a screenshot and the page source on failure."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=webdriver.ChromeService(str(DRIVER)), options=options)
    try:
        yield driver
    except BaseException:
        driver.save_screenshot(str(shots / f"FAILED-{name}.png"))
        (shots / f"FAILED-{name}.html").write_text(driver.page_source, encoding="utf-8")
        raise
    finally:
        driver.quit()


def login(driver: webdriver.Chrome, url: str, email: str, password: str) -> None:
    driver.get(f"{url}/user/login/")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(password + Keys.ENTER)
    WebDriverWait(driver, 30).until(lambda d: "/user/login" not in d.current_url)


def task_id(driver: webdriver.Chrome) -> str:
    """The id of the task on screen (the editor's footer), '' while none is."""
    found = driver.find_elements(By.CSS_SELECTOR, ".lsf-current-task__task-id")
    try:
        return found[0].text.split("\n")[0].strip() if found else ""
    except Exception:  # re-rendered while read
        return ""


def ready(driver: webdriver.Chrome, previous: str = "") -> str:
    """Wait for a task other than ``previous`` to be on screen with its choices, or (after the
    last one) for the stream to say it has no more; the task's id, '' at the end."""

    def shown(d: webdriver.Chrome) -> tuple[str] | None:
        current = task_id(d)
        if current and current != previous and d.find_elements(By.CSS_SELECTOR, ".lsf-choices input"):
            return (current,)
        if previous and END in d.find_element(By.TAG_NAME, "body").text.lower():
            return ("",)
        return None

    wait = WebDriverWait(driver, 30, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException])
    return wait.until(shown)[0]


#: closes the guidelines pop-up when it is open; whether one was (plain JS: React re-renders it)
CLOSE_MODAL = """
const open = document.querySelectorAll('.lsf-modal-ls_visible').length;
document.querySelectorAll("[aria-label='Close modal']").forEach((b) => b.click());
return open;
"""


def open_stream(driver: webdriver.Chrome, url: str, project: ProjectRef) -> str:
    """'Label All Tasks' of the project; the guidelines pop-up closed; the first task's id."""
    driver.get(f"{url}/projects/{project.id}/data?labeling=1")
    current = ready(driver)
    WebDriverWait(driver, 10, poll_frequency=0.1).until(lambda d: not d.execute_script(CLOSE_MODAL))
    return current


#: where the question (found by its text) and each choice are, read in one go (no stale elements)
GEOMETRY = """
const inView = (r) => r.height > 0 && r.top >= 0 && r.left >= 0
    && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
const header = document.evaluate(`//*[normalize-space(text())=${JSON.stringify(arguments[0])}]`,
    document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
const choices = [...document.querySelectorAll('.lsf-choice__item')].map((c) => {
    const r = c.getBoundingClientRect();
    return {text: c.innerText, bottom: r.bottom, shown: inView(r)};
});
return {scrolled: window.scrollY, question: header && header.getBoundingClientRect().top,
    question_shown: !!header && inView(header.getBoundingClientRect()), choices: choices};
"""


def first_screen(driver: webdriver.Chrome, shots: Path, name: str, question: str) -> dict:
    """Screenshot the first screen; where the question and every choice are; assert both are in view
    with the page not scrolled."""
    driver.save_screenshot(str(shots / f"{name}.png"))
    seen = driver.execute_script(GEOMETRY, question)
    choices = seen["choices"]
    figures = {
        "question_y": seen["question"],
        "choices_bottom_y": round(max((c["bottom"] for c in choices), default=0)),
        "choices": len(choices),
    }
    assert seen["scrolled"] == 0 and seen["question_shown"], f"{name}: {question!r} not in view: {figures}"
    hidden = [c["text"] for c in choices if not c["shown"]]
    assert choices and not hidden, f"{name}: choices below the first screen: {hidden} ({figures})"
    return figures


def label_and_submit(driver: webdriver.Chrome, keys: str, comment: str) -> tuple[int, float, str]:
    """Hotkeys, a comment, Ctrl+Enter; (keystrokes but the comment's, seconds from the submit to
    the next task on screen, its id)."""
    actions = webdriver.ActionChains(driver)
    body = driver.find_element(By.TAG_NAME, "body")
    for key in keys:
        body.send_keys(key)
    box = driver.find_element(By.CSS_SELECTOR, "[name=comment]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'nearest'})", box)
    box.click()
    box.send_keys(comment + Keys.ENTER)  # Enter adds it (Ctrl+Enter in the box would too, not submit)
    WebDriverWait(driver, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "input[name=comment]"))
    before = task_id(driver)
    start = time.monotonic()
    actions.key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
    after = ready(driver, before)
    seconds = time.monotonic() - start
    return len(keys) + 1, seconds, after  # the labels' hotkeys and Ctrl+Enter; the comment's are its own


# -- the test ---------------------------------------------------------------------------------


def _shots() -> Path:
    path = Path(os.environ.get("NEWSLAB_SCREENSHOT_DIR") or PROJECT_DIR / "data" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _projects(conn: Connection, settings: Settings) -> dict[tuple[str, str], ProjectRef]:
    return {(p.task, p.annotator or ""): p for p in find_projects(conn, SCHEMA, settings)}


def test_annotator_and_adjudicator_screens(ls, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings, conn = ls
    shots = _shots()
    started = time.monotonic()
    ann1, ann2, adjudicator = ensure_annotators(conn, [*ANNOTATORS, ADJUDICATOR], settings)
    setup(conn, SCHEMA, annotators=list(ANNOTATORS), settings=settings)
    projects = _projects(conn, settings)
    articles = [_seed(), _long()]
    tasks = {
        "stance": [t for t in make_tasks(SCHEMA, "stance", articles) if t["target"] == TARGET],
        "event_type": make_tasks(SCHEMA, "event_type", articles),
    }
    assert len(tasks["stance"]) == 2, "both articles mention the target"
    for task, data in tasks.items():
        for email in ANNOTATORS:
            push(conn, projects[(task, email)], data, settings=settings)
    # the second annotator's labels, through the API: favor / AGREE on everything
    client = conn.client()
    for task, label in (("stance", "favor"), ("event_type", "AGREE")):
        for item in existing_tasks(conn, projects[(task, ann2.email)].id).values():
            result = [
                {"from_name": task, "to_name": "text", "type": "choices", "value": {"choices": [label]}}
            ]
            client.annotations.create(id=item["id"], result=result, completed_by=ann2.id, lead_time=5.0)
    passwords = json.loads((settings.ls_dir / "annotators.json").read_text())
    figures: dict[str, object] = {}

    with chromium(shots, "annotator") as driver:
        login(driver, conn.url, ann1.email, passwords[ann1.email]["password"])
        figures["viewport"] = driver.execute_script("return [innerWidth, innerHeight]")
        plan = {
            "stance": ("Stance of this article toward Iran", ["2", "4"]),  # against, unrelated
            "event_type": ("Event types reported", ["qs", "z"]),  # AGREE+DISAPPROVE, ASSAULT
        }
        for task, (question, keys) in plan.items():
            current = open_stream(driver, conn.url, projects[(task, ann1.email)])
            for article, key in zip(("seed", "long"), keys, strict=True):
                figures[f"{task}/{article}"] = first_screen(driver, shots, f"{task}-{article}", question)
                strokes, seconds, current = label_and_submit(driver, key, f"{task} {article}: note")
                figures[f"{task}/{article}"] |= {"keystrokes": strokes, "submit_to_next_s": round(seconds, 2)}
                assert seconds < 10, f"{task}/{article}: {seconds:.1f} s from Submit to the next task"
            driver.save_screenshot(str(shots / f"{task}-end.png"))
            assert current == "", "the stream ends after the two tasks"

    pulled = pull(conn, SCHEMA, list(_projects(conn, settings).values()), settings)
    mine = {}
    for task in ("stance", "event_type"):
        frame = pulled[task][0]
        rows = frame[(frame["kind"] == "annotation") & (frame["annotator"] == ann1.email)]
        mine[task] = {r.article_id: r for r in rows.itertuples()}
        assert set(mine[task]) == {"seed", "long"}
        assert all(r.lead_time and r.lead_time > 0 for r in mine[task].values())
        assert {a: r.comment for a, r in mine[task].items()} == {
            "seed": f"{task} seed: note",
            "long": f"{task} long: note",
        }
    assert [list(mine["stance"][a].labels) for a in ("seed", "long")] == [["against"], ["unrelated"]]
    assert [sorted(mine["event_type"][a].labels) for a in ("seed", "long")] == [
        ["AGREE", "DISAPPROVE"],
        ["ASSAULT"],
    ]

    # the adjudicator: both annotators' labels beside an empty form
    review = review_project(conn, SCHEMA, "stance", settings)
    seed_task = tasks["stance"][0]
    votes = ((ann1.email, ("against",)), (ann2.email, ("favor",)))
    extra = {"agreement": 0.0, "votes": votes_text(SCHEMA, "stance", votes)}
    push(conn, review, [{**seed_task, **extra, "suggestion": "Against (0.71)", "reason": "disagree"}])
    with chromium(shots, "adjudicator") as driver:
        login(driver, conn.url, adjudicator.email, passwords[adjudicator.email]["password"])
        open_stream(driver, conn.url, review)
        driver.save_screenshot(str(shots / "review-seed.png"))
        page = driver.find_element(By.TAG_NAME, "body").text
        assert f"{ann1.email}: Against" in page and f"{ann2.email}: Favor" in page
        assert "Against (0.71)" in page and "agreement 0" in page
        assert not [i for i in driver.find_elements(By.CSS_SELECTOR, ".lsf-choices input") if i.is_selected()]
        figures["review"] = first_screen(driver, shots, "review-seed", "Stance of this article toward Iran")

    # not blind: Label Studio's open-source edition lists every project to every member
    as_ann1 = {"Authorization": f"Token {ann1.token}"}
    seen = httpx.get(f"{conn.url}/api/projects/?page_size=1000", headers=as_ann1, timeout=30).json()
    ours = sorted(p["title"] for p in seen["results"] if p["title"].startswith(settings.ls_project_prefix))
    figures["projects_ann1_sees"] = ours
    figures["seconds"] = round(time.monotonic() - started, 1)
    print("\nannotator screen:", json.dumps(figures, indent=1))
    print("screenshots:", shots)
