"""Tic-tac-toe: the visitor clicks a cell, the LSTM answers at once on the main thread.

The chosen level, and an uploaded knowledge file, are remembered for the next visit (app/store.py);
a remembered file is read as strictly as a fresh upload."""
from models import tictactoe as rules

from app import store
from app.dom import by_id, enable, listen
from app.errors import show_error
from app.files import FileProblem, knowledge_from_bytes, knowledge_from_url, knowledge_upload
from app.wording import sentence

KIND = "tictactoe-lstm"
MARKS = {rules.X: "X", rules.O: "O"}
LEVEL_KEY, UPLOAD_KEY = "ttt/level", "ttt/upload"    # {"value", "name"?} and the uploaded file's bytes


class TicTacToeView:
    def __init__(self):
        self.player = None          # the model answering moves; replaced only by a good file
        self.player_name = ""
        self.moves = []
        self.falken_plays = rules.O
        self.select = by_id("ttt-knowledge")
        self.selected_value = self.select.value   # what to go back to if a choice fails
        self.cells = [by_id(f"cell-{i}") for i in range(9)]
        for i, cell in enumerate(self.cells):
            listen(cell, "click", lambda event, i=i: self.human_plays(i), "Your move")
        listen("ttt-new", "click", lambda event: self.new_game(), "New game")
        listen("ttt-first", "change", lambda event: self.new_game(), "Choosing who starts")
        listen(self.select, "change", self.choose_knowledge, "Loading that knowledge file")
        listen("ttt-upload", "change", self.upload_knowledge, "Loading your knowledge file")
        listen("ttt-thinking", "change", lambda event: self.render(), "Showing Falken's thinking")

    async def boot(self):
        enable("ttt-new")
        if await self.recall_level():
            self.new_game()
            return
        try:
            model = await knowledge_from_url(self.select.value, KIND)
        except FileProblem as problem:
            # The other levels, an upload and the rest of the page still work.
            show_error(f"{sentence(problem)} Choose another level or upload a knowledge file to play.")
            by_id("ttt-status").textContent = "Choose a level or upload a knowledge file to play."
            by_id("ttt-knowledge-info").textContent = "No level loaded."
            return
        self.use(model, self.select.selectedOptions.item(0).text)
        self.new_game()

    async def recall_level(self):
        """Select the level chosen last visit; True if that was an uploaded file, which then
        plays already (it comes back as its own option)."""
        try:
            level = await store.get_json(LEVEL_KEY)
            if not isinstance(level, dict) or not isinstance(level.get("value"), str):
                return False
            if level["value"] == "uploaded":
                name, data = str(level.get("name") or "your file"), await store.get_bytes(UPLOAD_KEY)
                if data is None:
                    return False
                try:
                    model = knowledge_from_bytes(data, name, KIND)
                except FileProblem as problem:
                    show_error(f"Your saved tic-tac-toe file could not be used, so it was discarded: {sentence(problem)}")
                    await store.remove(UPLOAD_KEY)
                    await store.remove(LEVEL_KEY)
                    return False
                self.add_uploaded(name, model)
                return True
            if level["value"] in [option.value for option in self.select.options]:
                self.select.value = self.selected_value = level["value"]
        except store.StoreUnavailable:
            pass                    # nothing was kept; the shipped default plays
        return False

    async def remember(self, name=None, data=None):
        try:
            if data is not None:
                await store.put_bytes(UPLOAD_KEY, data)
            await store.put_json(LEVEL_KEY, {"value": self.select.value, "name": name})
        except store.StoreUnavailable:
            pass                    # the choice lasts this visit only; the Digits view says why

    # -- knowledge -----------------------------------------------------------------------
    def use(self, model, name):
        self.player, self.player_name = model, name
        rate = model.metrics.get("optimal_move_rate")
        detail = f" — picks an optimal move in {rate:.1%} of positions" if rate is not None else ""
        by_id("ttt-knowledge-info").textContent = f"Playing with “{name}”{detail}."

    async def choose_knowledge(self, event):
        try:
            model = await knowledge_from_url(self.select.value, KIND)
        except FileProblem as problem:
            self.select.value = self.selected_value
            show_error(f"{sentence(problem)} Falken keeps playing with “{self.player_name}”.")
            return
        self.selected_value = self.select.value
        self.use(model, self.select.selectedOptions.item(0).text)
        self.new_game()
        await self.remember()

    async def upload_knowledge(self, event):
        uploaded = await knowledge_upload(by_id("ttt-upload"), KIND,
                                          f"Falken keeps playing with “{self.player_name}”.")
        if uploaded is None:
            return
        name, data, model = uploaded
        self.add_uploaded(name, model)
        self.new_game()
        await self.remember(name, data)

    def add_uploaded(self, name, model):
        option = self.select.querySelector("option[data-uploaded]")
        if not option:              # JS null arrives as pyodide.ffi.jsnull, which is falsy
            option = self.select.ownerDocument.createElement("option")
            option.setAttribute("data-uploaded", "")
            self.select.append(option)
        option.value = "uploaded"
        option.text = f"Yours: {name}"
        self.select.value = self.selected_value = "uploaded"
        self.use(model, option.text)

    # -- the game --------------------------------------------------------------------------
    def new_game(self):
        self.moves = []
        self.falken_plays = rules.X if by_id("ttt-first").value == "ai" else rules.O
        if self.falken_plays == rules.X and self.player is not None:
            self.moves.append(self.player.choose([]))
        self.render()

    def human_plays(self, cell):
        board = rules.board_of(self.moves)
        # Clicks on a taken cell, after the end, or before Falken has a player are ignored.
        if self.player is None or rules.is_terminal(board) or board[cell] != rules.EMPTY:
            return
        self.moves.append(cell)
        if not rules.is_terminal(rules.board_of(self.moves)):
            self.moves.append(self.player.choose(self.moves))
        self.render()

    def thinking(self, over):
        """The LSTM's probability per cell for the side to move, when asked for and there is one."""
        if not by_id("ttt-thinking").checked or over or self.player is None:
            return None
        return self.player.move_probabilities(self.moves)

    def render(self):
        board = rules.board_of(self.moves)
        winner = rules.winner(board)
        line = rules.winning_line(board) or ()
        over = rules.is_terminal(board)
        thinking = self.thinking(over)
        for i, cell in enumerate(self.cells):
            mark = MARKS.get(board[i], "")
            cell.textContent = mark
            cell.className = "cell" + (f" {mark.lower()}" if mark else "") + (" win" if i in line else "")
            cell.disabled = over or bool(mark)
            row, col = divmod(i, 3)
            state = mark or "empty"
            if thinking is not None and not mark:
                p = float(thinking[i])
                # The percentage is drawn by CSS from data-pct, so textContent stays the mark.
                cell.setAttribute("data-p", f"{p:.6f}")
                cell.setAttribute("data-pct", f"{100 * p:.0f}%")
                cell.style.setProperty("--p", f"{p:.3f}")
                state += f", Falken's thinking {100 * p:.0f}%"
            else:
                cell.removeAttribute("data-p")
                cell.removeAttribute("data-pct")
                cell.style.removeProperty("--p")
            cell.setAttribute("aria-label", f"Row {row + 1}, column {col + 1}: {state}")
        human = MARKS[rules.X if self.falken_plays == rules.O else rules.O]
        if winner:
            status = "Falken wins." if winner == self.falken_plays else "You win!"
        elif over:
            status = "Draw."
        else:
            status = f"Your move ({human})."
        status_element = by_id("ttt-status")
        status_element.textContent = status
        status_element.setAttribute("data-result",
                                    "falken" if winner == self.falken_plays and winner else
                                    "human" if winner else "draw" if over else "")
