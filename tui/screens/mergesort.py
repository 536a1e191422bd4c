"""Question 1, part three: merge sort's O(n log n), stepped and counted.

Two views (1, 2; v the next): the sort of a small array (8 to 64 items, s/S) stepped event by
event with the kit's playback — the array as bars over the split tree, drawn with the same
columns, the node at work bracketed, the comparisons counted against the bounds — and the large
view, which counts the comparisons of merge sort and of Python's Timsort for n = 10³ … 10⁶ in
a job (r counts, c stops) and fits comparisons ≈ c·n·log₂ n for each input order.
The screen composes, binds keys and draws; the numbers come from engine/basics/mergesort.py
through mergesort_view (the stepped view) and mergesort_large_view (the large view).
"""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, ProgressBar, Static

from ...engine.seeds import SEED_BITS, seed_in_range
from ..kit.jobs import unexpected_note
from ..kit.playback import PLAYBACK_BINDINGS, Playback, PlaybackMixin
from ..kit.screen import QuestionScreen
from ..widgets.explanation import ExplanationPanel
from ..widgets.split_tree import SplitTree
from . import mergesort_large_view as large
from . import mergesort_view as view

# The kit's playback keys in this screen's words, whether the key bar shows them (Space and n),
# and how `?` names them: every key that works, the aliases too.
PLAYBACK_WORDS = {
    "playback_toggle": ("Play", True, None),
    "playback_step(1)": ("Step", True, "n/→"),
    "playback_step(-1)": ("Step back", False, "b/←"),
    "playback_speed(1)": ("Faster", False, "+/="),
    "playback_speed(-1)": ("Slower", False, "-"),
    "playback_jump(0)": ("First step", False, "g/home"),
    "playback_jump(1)": ("Last step", False, "G/end"),
}
STEP_KEYS = {"size", "order"}  # the stepped view only


class MergeSortScreen(PlaybackMixin, QuestionScreen):
    SCREEN_ID = "sort"
    CSS_PATH = "mergesort.tcss"

    # r does one thing in each view: check_action lets through only the view's binding.
    BINDINGS = [
        Binding("v", "next_view", "Next view", show=False),  # the tabs line says "v next"
        Binding("1", "view('steps')", "Step-by-step view", show=False),
        Binding("2", "view('large')", "Large-n view (counts)", show=False),
        *[replace(binding, description=PLAYBACK_WORDS[binding.action][0],
                  show=PLAYBACK_WORDS[binding.action][1],
                  key_display=PLAYBACK_WORDS[binding.action][2] or binding.key_display)
          for binding in PLAYBACK_BINDINGS],
        Binding("s", "size(1)", "More items (n)", show=False),
        Binding("S", "size(-1)", "Fewer items (n)", show=False),
        Binding("o", "order", "Order: random/sorted/reversed", show=False),
        Binding("r", "shuffle", "New random array", show=False),
        Binding("r,enter", "count", "Count n = 10³…10⁶", key_display="r/⏎"),
        Binding("c", "cancel", "Stop counting"),
    ]
    HELP_NOTES = (
        "1 step by step · 2 large n; v cycles them. Step by step: Space plays, n/→ and b/← "
        "step, g/G first/last, +/- speed; s/S more/fewer items (8, 16, 32, 64), o the order "
        "(random, sorted, reversed), r a new random array. The tree under the bars: [━] the "
        "node at work, ╞═╡ sorted, ├─┤ split, ╶┄╴ not reached; L and R mark the heads "
        "compared, ▲ the item taken. Large n: r (or Enter) counts merge sort and Timsort at "
        "n = 10³ … 10⁶ for each order in a worker process, c stops (the counts so far stay)."
    )

    def __init__(self, screen_id: str | None = None) -> None:
        super().__init__(screen_id)
        self.view = "steps"
        self.settings = view.SortSettings()
        self.stepper: view.EventStepper | None = None
        self.book = large.LargeBook()
        self.playback = Playback(self, self._show_steps)

    # -- layout -----------------------------------------------------------------------------

    def compose_main(self) -> ComposeResult:
        with Horizontal(id="sort-work"):
            with Vertical(id="sort-left"):
                yield Static(id="sort-tabs")
                with ContentSwitcher(id="sort-views", initial="view-steps"):
                    with Vertical(id="view-steps"):
                        yield Static(id="sort-settings")
                        yield Static(id="sort-counters")
                        yield SplitTree(id="sort-tree")
                    with Vertical(id="view-large"):
                        yield Static(id="large-head")
                        yield Static(id="large-table")
                        yield ProgressBar(id="large-progress", show_eta=False)
                yield Static(id="sort-status")
            yield ExplanationPanel(id="sort-explain")

    def on_mount(self) -> None:
        seed = seed_in_range(getattr(self.app, "seed", 0), SEED_BITS)
        self.settings = replace(self.settings, seed=seed)
        self.book = large.LargeBook(sizes=large.LARGE_SIZES, seed=seed)
        self.query_one("#large-progress").display = False
        self.query_one("#sort-explain").border_title = "why n log n"
        self._new_run()

    def on_screen_suspend(self) -> None:
        self.playback.pause()

    # -- keys -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        counting = self.jobs.running("large")
        if action == "cancel":
            return counting
        if action == "count":
            return self.view == "large" and not counting
        if action == "shuffle":
            return self.view == "steps" and self.settings.order == "random"
        stepper = self.stepper
        if action in STEP_KEYS or action.startswith("playback_"):
            if self.view != "steps" or stepper is None:
                return False
            if action in ("playback_step", "playback_jump"):  # (1,): forward, or to the end
                forward = parameters[:1] == (1,)
                return stepper.position < stepper.length if forward else stepper.position > 0
            return True
        return allowed

    def action_view(self, name: str) -> None:
        if name != "steps":
            self.playback.pause()
        self.view = name
        self.query_one("#sort-views", ContentSwitcher).current = f"view-{name}"
        self.refresh_bindings()
        self._show_all()

    def action_next_view(self) -> None:
        self.action_view(view.VIEWS[(view.VIEWS.index(self.view) + 1) % len(view.VIEWS)])

    def action_size(self, delta: int) -> None:
        self._change(self.settings.resized(delta))

    def action_order(self) -> None:
        self._change(self.settings.next_order())

    def action_shuffle(self) -> None:
        self._change(self.settings.reseeded())

    def _change(self, settings: view.SortSettings) -> None:
        self.settings = settings
        self._new_run()

    def _new_run(self) -> None:
        """The sort of the array the settings make, from its first step (≤ 64 items: ~830
        events, made in a few milliseconds, so on the UI thread)."""
        self.stepper = view.EventStepper(view.make_run(self.settings))
        self.playback.attach(self.stepper)
        self.refresh_bindings()
        self._show_all()

    # -- the large-n counts (a job; each count in a worker process) --------------------------

    def action_count(self) -> None:
        book = self.book
        self.book = large.LargeBook(sizes=book.sizes, seed=book.seed)
        progress = self.query_one("#large-progress", ProgressBar)
        progress.update(total=1.0, progress=0.0)
        progress.display = True
        self.jobs.start("large", large.large_work(self.book.sizes, self.book.seed),
                        on_progress=self._counted, on_done=self._count_done,
                        on_failed=self._count_failed, expected=(Exception,), keep="all")
        self.refresh_bindings()
        self._show_large()

    def _counted(self, value) -> None:
        if isinstance(value, tuple):  # ("running", task)
            self.book.running = value[1]
        else:
            self.book.add(value)
        self.query_one("#large-progress", ProgressBar).update(progress=self.book.fraction)
        self.draw_after_refresh(self._show_large)

    def _count_done(self, tasks: int) -> None:
        book = self.book
        fits = ", ".join(f"{order} {book.fit(order, 'merge'):.3f}" for order in view.ORDERS)
        self.app.record_run("sort", f"sort: comparisons counted up to n = {book.sizes[-1]:,}; "
                            f"merge sort's c: {fits}", n=book.sizes[-1], seed=book.seed,
                            c_random=book.fit("random", "merge"))
        self._end_count(f"done: {tasks} counts")

    def _count_failed(self, error: BaseException) -> None:
        self.notify(unexpected_note("counting", error), severity="error", timeout=8)
        self._end_count("the counting failed (see the note)")

    def action_cancel(self) -> None:
        self.jobs.cancel("large")
        kept = len(self.book.counts)
        self._end_count(f"stopped: {kept} count{'' if kept == 1 else 's'} kept")

    def _end_count(self, note: str) -> None:
        self.book.running, self.book.note = None, note
        self.query_one("#large-progress").display = False
        self.refresh_bindings()
        self._show_large()

    # -- drawing ----------------------------------------------------------------------------

    def _show_all(self) -> None:
        self.query_one("#sort-tabs", Static).update(view.tabs_line(self.view))
        self._show_steps()
        self._show_large()

    def _show_steps(self) -> None:
        stepper = self.stepper
        if stepper is None:
            return
        self.query_one("#sort-settings", Static).update(view.settings_line(self.settings))
        self.query_one("#sort-tree", SplitTree).show(view.picture(stepper))
        self.query_one("#sort-counters", Static).update(view.counters_text(stepper))
        self.refresh_bindings()  # which step keys work changes with every move
        self._show_words()

    def _show_large(self) -> None:
        book = self.book
        self.query_one("#large-head", Static).update(large.large_head(book))
        self.query_one("#large-table", Static).update(large.large_table(book))
        self._show_words()

    def _show_words(self) -> None:
        """The status line and the explanation of the view on show."""
        if self.view == "steps" and self.stepper is not None:
            status = view.status_text(self.stepper, self.playback.status("step"))
            words = view.explanation(self.stepper)
        else:
            status = large.large_status(self.book, self.jobs.running("large"))
            words = large.large_explanation(self.book)
        self.query_one("#sort-status", Static).update(status)
        self.query_one("#sort-explain", ExplanationPanel).show(words)
