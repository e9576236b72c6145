"""The state-machine helper by its old name: it lives in `shared/statemachine.py` (disbursement uses it too)."""

from shared.statemachine import IllegalTransition as IllegalTransition
from shared.statemachine import StateMachine as StateMachine
from shared.statemachine import advance as advance
from shared.statemachine import conflict as conflict
