/* tests/interleave/scenarios.h -- the scenarios the model checker explores
 * (scenarios.c). */
#ifndef SA_INTERLEAVE_SCENARIOS_H
#define SA_INTERLEAVE_SCENARIOS_H

#include "sched.h"

extern mc_scenario_t mc_scenarios[];
extern const size_t mc_scenario_count;
/* Before a scenario's setup, in its process. */
void mc_scenario_begin(mc_scenario_t *sc);

#endif /* SA_INTERLEAVE_SCENARIOS_H */
