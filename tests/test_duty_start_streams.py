"""A unit's start point on its circuit comes from its own named stream, made only when drawn from.

``Duty`` draws from the stream ``patrol-start-{uid}`` of a unit when it starts on patrol
at time 0, not for every unit up front: the draws must be those of the named stream, a second
draw must go on with the same stream, and units that never start on patrol cost nothing.
"""

from __future__ import annotations

from sim.demand import sample_incidents
from sim.engine.units import PATROL
from sim.experiment.replicate import make_engine
from sim.streams import replication_seed, stream


def test_start_points_are_the_named_streams_first_draws(small_ctx):
    ctx = small_ctx
    rep = replication_seed(ctx.scenario.seed, 0)
    engine = make_engine(ctx, sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s), rep)
    duty = engine.duty
    assert not duty._start_rng                                      # nothing drawn before the run
    log = engine.run()
    # a unit on patrol at time 0 is on its circuit from anchor (0, its draw): the interval it
    # patrols first has that anchor
    at_start = {uid: (key, tau) for uid, _, _, key, anchor_t, tau in log.patrol_intervals if anchor_t == 0.0}
    made = set(duty._start_rng)
    assert at_start and made == set(at_start)                       # one stream per unit on patrol at 0
    assert len(made) < len(duty.units)                               # the others made none
    for uid, (key, tau) in at_start.items():
        lap_s = duty.circuits.by_key[key].duration_s
        assert tau == float(stream(rep, f"patrol-start-{uid}").random() * lap_s)
    uid = min(made)
    second = duty._start_draw(uid)                                   # the same stream goes on
    expected = stream(rep, f"patrol-start-{uid}")
    expected.random()
    assert second == expected.random()
