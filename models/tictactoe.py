"""Tic-tac-toe rules and an exact minimax oracle.

Cells are 0-8 row-major, X moves first. A game is its move history: a tuple of cell indices.
Values are from the point of view of the player to move: +1 win, 0 draw, -1 loss (no
preference for quicker wins: every move that keeps the best outcome counts as optimal).
"""
from functools import lru_cache

X, O, EMPTY = 1, 2, 0
LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))


def board_of(moves):
    """Board tuple (9 cells of EMPTY/X/O) after the given moves. Raises ValueError if illegal."""
    board = [EMPTY] * 9
    for k, m in enumerate(moves):
        if not (isinstance(m, int) and 0 <= m < 9) or board[m] != EMPTY:
            raise ValueError(f"illegal move {m!r} at turn {k}")
        if winner(board):
            raise ValueError(f"move {m} at turn {k} comes after the game ended")
        board[m] = X if k % 2 == 0 else O
    return tuple(board)


def to_move(board):
    """Whose turn it is (X or O) on a board reached by legal play."""
    return X if board.count(X) == board.count(O) else O


def winning_line(board):
    """The three cells of a completed line, or None."""
    for line in LINES:
        a, b, c = line
        if board[a] != EMPTY and board[a] == board[b] == board[c]:
            return line
    return None


def winner(board):
    """X or O if that player has three in a row, else EMPTY (0)."""
    line = winning_line(board)
    return board[line[0]] if line else EMPTY


def legal_moves(board):
    """Empty cells, or none at all when the game is over."""
    if winner(board):
        return []
    return [i for i in range(9) if board[i] == EMPTY]


def is_terminal(board):
    return bool(winner(board)) or EMPTY not in board


@lru_cache(maxsize=None)
def value(board):
    """Exact minimax value for the player to move (memoised: 5,478 reachable boards)."""
    w = winner(board)
    if w:
        return 1 if w == to_move(board) else -1   # in practice always -1: the mover just lost
    moves = legal_moves(board)
    if not moves:
        return 0
    me = to_move(board)
    return max(-value(_play(board, m, me)) for m in moves)


def _play(board, m, who):
    b = list(board)
    b[m] = who
    return tuple(b)


@lru_cache(maxsize=None)
def optimal_moves_on(board):
    """All moves that achieve the minimax value on a non-terminal board."""
    me = to_move(board)
    best = value(board)
    return tuple(m for m in legal_moves(board) if -value(_play(board, m, me)) == best)


def optimal_moves(moves):
    """All minimax-optimal replies to a move history."""
    return optimal_moves_on(board_of(moves))


def all_histories():
    """Every reachable non-terminal move history (294,778 of them, the empty one included)."""
    out = []

    def walk(hist, board, who):
        if is_terminal(board):
            return
        out.append(hist)
        for m in range(9):
            if board[m] == EMPTY:
                b = list(board)
                b[m] = who
                walk(hist + (m,), tuple(b), O if who == X else X)

    walk((), (EMPTY,) * 9, X)
    return out


def play_out(choose_fn, as_player):
    """Play `choose_fn` (history -> cell) as X or O against EVERY possible opponent reply.

    Returns counts {"win": .., "draw": .., "loss": .., "illegal": ..} over all leaves of the
    resulting game tree."""
    counts = {"win": 0, "draw": 0, "loss": 0, "illegal": 0}
    me = X if as_player == "X" else O

    def walk(hist, board):
        w = winner(board)
        if w or EMPTY not in board:
            counts["draw" if not w else ("win" if w == me else "loss")] += 1
            return
        who = to_move(board)
        if who == me:
            m = choose_fn(hist)
            if m not in legal_moves(board):
                counts["illegal"] += 1
                return
            walk(hist + (m,), _play(board, m, who))
        else:
            for m in legal_moves(board):
                walk(hist + (m,), _play(board, m, who))

    walk((), (EMPTY,) * 9)
    return counts
