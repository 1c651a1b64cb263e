/*
 * fixtures.h — the fixtures a running fake replays: an mspf_set (unique
 * names and command ids) plus a served-count per fixture for "responses"
 * sequences. Fixtures are added (load time or POST /__admin/fixtures),
 * replaced or removed; a removed one is kept until no request holds a
 * response of any fixture (fm_fx_match counts the request in,
 * fm_fx_release out), so the pointers handed out stay valid; readers share
 * a rwlock, counters are atomic. Every fixture's bytes count against one
 * budget (removed ones too, until freed).
 */
#ifndef FAKE_MSP_FIXTURES_H
#define FAKE_MSP_FIXTURES_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "contracts/fixture.h"
#include "util.h"

typedef struct fx_registry fx_registry;

/* A response's cell (fm_fx_match_cell). */
typedef _Atomic(void *) fm_fx_cell;

/* fx_add refuses past max_fixtures, or past budget bytes held in all. */
fx_registry *fm_fx_new(size_t max_fixtures, size_t budget);
void fm_fx_free(fx_registry *reg);
/* What frees the contents of a cell, when its fixture is freed. */
void fm_fx_set_drop(fx_registry *reg, void (*drop)(void *));

/* Takes ownership of f on success; -1 with *err on a duplicate. */
int fm_fx_add(fx_registry *reg, mspf_fixture *f, mspf_error *err);
/* Loads a directory / one file. -1 with *err on the first invalid one. */
int fm_fx_load_dir(fx_registry *reg, const char *dir, mspf_error *err);
int fm_fx_load_file(fx_registry *reg, const char *file, mspf_error *err);

/* What is left of the budget (>= 1), for parsing the next fixture. */
size_t fm_fx_budget_left(fx_registry *reg);
/* From now on additions count as made at run time. */
void fm_fx_started(fx_registry *reg);
/* Replaces the fixture with f's name (1), or adds f (0); -1 with *err
 * (over the budget, duplicate command id). Takes f on success. */
int fm_fx_replace(fx_registry *reg, mspf_fixture *f, mspf_error *err);
/* Removes the fixture named name: 0, or -1 when there is none. */
int fm_fx_remove(fx_registry *reg, const char *name);
/* Removes every fixture added at run time; returns how many. */
size_t fm_fx_remove_run_time(fx_registry *reg);
/* A request that got a response from fm_fx_match is done with it. */
void fm_fx_release(fx_registry *reg);

/* Number of fixtures (a cheap check before matching). */
size_t fm_fx_count(fx_registry *reg);

/* The first fixture (in load order) with responses whose request matches;
 * advances its sequence and returns the response to serve, or NULL. body:
 * the request body already parsed, or NULL (then parsed here when the
 * index needs it); every fixture tried matches against that one parse. Past a
 * few fixtures the lookup goes through the index (fixtures.c), so its cost does
 * not grow with the number loaded. */
const mspf_response *fm_fx_match(fx_registry *reg, const mspf_request *req,
                                 const cJSON *body,
                                 const mspf_fixture **fixture);

/* As fm_fx_match; also sets *cell (on a match) to the response's cell: a
 * place where the caller may keep one prepared form of that response
 * (atomically: compare-and-swap from NULL), kept and valid as long as the
 * response is, and freed with it by the function fm_fx_set_drop gave. The
 * cell may be NULL (no memory for it). */
const mspf_response *fm_fx_match_cell(fx_registry *reg, const mspf_request *req,
                                      const cJSON *body,
                                      const mspf_fixture **fixture,
                                      fm_fx_cell **cell);

/* Writes "closest: NAME: FIELD expected X got Y" (fewest mismatches among
 * fixtures with a request and responses) or "no fixtures loaded". */
void fm_fx_closest(fx_registry *reg, const mspf_request *req, char *msg,
                   size_t len);

/* Restarts every sequence. */
void fm_fx_reset_sequences(fx_registry *reg);

/* Appends {"count":N,"fixtures":[{name, description, exit_row, responses,
 * served, statuses, faults}]} to b. */
void fm_fx_to_json(fx_registry *reg, msp_buf *b);

#endif
