"""The page's side of a stop rule (app/stop_rules.py), the same for every view that trains: a
select for the rule and a number for its N, a <progress> of the budget with the seconds left in
data-eta-s, and the words for why a rule ended a run."""
from app.dom import by_id, enable, listen, set_data
from app.errors import show_error


NO_RULE = {"kind": "none", "stopped": None, "progress": None, "eta_s": None}


class StopControls:
    def __init__(self, rule_id, value_id, progress_id, eta_id, score):
        """`score` names what early stopping watches ("held-out accuracy")."""
        self.ids = {"stop-rule": rule_id, "stop-value": value_id, "progress": progress_id, "eta": eta_id}
        self.score = score
        self.send = None             # the worker's set-rule function, once there is a session
        for part in ("stop-rule", "stop-value"):
            listen(self.ids[part], "change", self.apply, "Setting the stop rule")

    async def connect(self, send):
        self.send = send
        await self.apply()

    async def apply(self, event=None):
        kind = by_id(self.ids["stop-rule"]).value
        enable(self.ids["stop-value"], on=kind != "none")
        if self.send is not None:
            problem = await self.send(kind, by_id(self.ids["stop-value"]).value)
            if problem:
                show_error(problem + " Training stops only on Pause until the rule is fixed.")
                await self.send("none", "")

    def show(self, status_element, stop):
        """Progress and data-stopped from a status's "stop" part; the words for a stopped run or "".
        A status restored from a checkpoint before the worker is up has none: no rule yet."""
        stop = stop or NO_RULE
        set_data(status_element, stopped=stop["stopped"])
        bar, eta = by_id(self.ids["progress"]), by_id(self.ids["eta"])
        bar.hidden = stop["kind"] == "none"
        bar.value = stop["progress"] or 0
        bar.setAttribute("data-eta-s", "" if stop["eta_s"] is None else f"{stop['eta_s']:.1f}")
        if stop["kind"] == "none" or stop["stopped"]:
            eta.textContent = ""
        elif stop["kind"] == "patience":
            eta.textContent = f"{stop['since_best']} of {stop['value']} evaluations without a better {self.score}"
        else:
            eta.textContent = "" if stop["eta_s"] is None else f"about {stop['eta_s']:,.0f} s left"
        return self.stopped_line(stop)

    def stopped_line(self, stop):
        if stop["stopped"] == "epochs":
            return f"Stopped after {stop['value']:g} epoch{'' if stop['value'] == 1 else 's'}"
        if stop["stopped"] == "time":
            return f"Stopped after {stop['value']:g} s of training"
        if stop["stopped"] == "patience":
            best = stop["best"]
            return (f"Stopped: no better {self.score} in {stop['value']} evaluations, so back to the best, "
                    f"evaluation {best['evaluation']} at step {best['iteration']:,}")
        return ""
