/*
 * diff.h — msp-contract diff: what changed between two fixture sets and
 * whom it can break (docs/diff.md).
 *
 * diff_load.c reads a side (a directory, or git:REV:PATH through git),
 * diff_pair.c pairs the fixtures, diff_classify.c (with diff_rules.c)
 * classifies each change by the fixture model's own semantics, diff_out.c
 * prints text, JSON and JUnit, diff.c is the command.
 *
 * Ownership: hx_side_load() fills a side freed with hx_side_free();
 * hx_changes own every string in them (hx_changes_free()); *_free(NULL)
 * does nothing. Nothing here prints except diff_out.c's writers and
 * hx_diff_main().
 */
#ifndef MSP_HARNESS_DIFF_H
#define MSP_HARNESS_DIFF_H

#include <stdio.h>
#include <stddef.h>

#include <contracts/fixture.h>

/* Whom a change can break: a bit set. */
#define HX_BREAKS_NONE      0u
#define HX_BREAKS_EXECUTORS 1u
#define HX_BREAKS_MSPS      2u
#define HX_BREAKS_BOTH      3u

/* One fixture of a side. Read first (name, origin, text); then, unless
 * its text is byte for byte the other side's (`same`: it cannot have
 * changed, and is neither parsed nor compared), validated by
 * mspf_fixture_parse() and kept as what the pairing needs plus the
 * document read with its exact text (strings keep bytes after a \u0000). */
typedef struct hx_side_fixture {
    char *name;   /* the file's base name; the fixture's name once parsed */
    char *origin; /* the path or git:REV:PATH/FILE, for errors */
    char *text;   /* the file, until parsed; NULL after */
    size_t len;
    int same;            /* identical on both sides: never parsed */
    char *command_id;    /* NULL for a provider-only fixture */
    int provider_verify; /* provider.verify */
    int provider_only;   /* provider.steps */
    mspf_json *js;       /* NULL until parsed */
} hx_side_fixture;

/* One side of the diff, sorted by name (names unique). */
typedef struct hx_side {
    char *label; /* as given on the command line */
    hx_side_fixture *items;
    size_t n;
} hx_side;

/* Reads the files of SPEC — a fixture directory, or "git:REV:PATH" read
 * from the git repository of the current directory without checking it
 * out — into *side, sorted by name. Returns 0, or -1 with the reason in
 * err. */
int hx_side_load(const char *spec, hx_side *side, char *err, size_t errlen);
/* Marks the fixtures whose text is the same on both sides (and drops it). */
void hx_sides_mark_same(hx_side *a, hx_side *b);
/* Validates every fixture not marked same with the fixture model. Returns
 * 0, or -1 with "FILE: JSON-PATH: REASON" in err. */
int hx_side_parse(hx_side *side, char *err, size_t errlen);
void hx_side_free(hx_side *side);

/* One change, at one JSON path of one fixture. */
typedef struct hx_change {
    char *fixture;    /* the name in NEW (in OLD for a removal) */
    char *old_name;   /* a rename: the name in OLD; else NULL */
    const char *kind; /* "added", "removed", "renamed" or "changed" */
    char *path;       /* "$" for the whole fixture, "$.expect.exit_code" */
    char *old_value;  /* compact JSON, cut; NULL: absent */
    char *new_value;
    unsigned breaks; /* HX_BREAKS_* */
    const char *why; /* one line: why it breaks (or not) whom */
    size_t order;    /* discovery order, for a stable sort */
} hx_change;

typedef struct hx_changes {
    hx_change *items;
    size_t n, cap;
    size_t fixtures_changed; /* fixtures with at least one change */
    int oom;                 /* an allocation failed: the list is partial */
} hx_changes;

/* Pairs the fixtures of OLD and NEW (by name; a removed and an added
 * fixture with the same command id and request are a rename) and appends
 * every change, classified, sorted most severe first. Returns 0, or -1 on
 * ENOMEM. */
int hx_changes_compute(const hx_side *old_side, const hx_side *new_side,
                       hx_changes *out);
void hx_changes_free(hx_changes *c);

/* Severity of a breaks set: 0 both, 1 executors, 2 MSPs, 3 neither. */
int hx_breaks_rank(unsigned breaks);
/* "both", "executors", "msps" or "neither". Static. */
const char *hx_breaks_name(unsigned breaks);

/* The writers (diff_out.c). `fail_mask` is the HX_BREAKS_* set that fails
 * the run (--fail-on). */
void hx_changes_print_text(FILE *out, const hx_side *o, const hx_side *n,
                           const hx_changes *c, unsigned fail_mask);
void hx_changes_print_json(FILE *out, const hx_side *o, const hx_side *n,
                           const hx_changes *c, unsigned fail_mask,
                           const char *fail_on);
/* Writes JUnit XML to path through a temporary file and a rename; refuses
 * a symlink. Returns 0, or -1 with errno set. */
int hx_changes_write_junit(const char *path, const hx_changes *c,
                           unsigned fail_mask);

/* `msp-contract diff ...` (argv[1] is "diff"). Returns the exit status. */
int hx_diff_main(int argc, char **argv);

#endif /* MSP_HARNESS_DIFF_H */
