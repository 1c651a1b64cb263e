/*
 * credentials.c — keys by credential role. Fixtures name roles ("valid",
 * "read_only", "other_tenant", "invalid"; contracts/fixture.h), never keys;
 * a provider run maps roles to key files, a verify run uses the built-in
 * keys that fake-msp issues. No key is ever printed.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor/msp_util.h"

/* The one key-file reader (executor/msp_util.h): the whole first line, up
 * to MSP_KEY_FILE_CAP bytes, its line end dropped, the buffer wiped. */
static char *read_key_file(const char *path)
{
    return msp_read_key_file(path, MSP_KEY_FILE_CAP);
}

static int put(hx_keyring *k, const char *role, char *key)
{
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->items[i].role, role) == 0) {
            size_t len = strlen(k->items[i].key);
            memset(k->items[i].key, 0, len);
            free(k->items[i].key);
            k->items[i].key = key;
            return 0;
        }
    if (k->n == sizeof k->items / sizeof k->items[0])
        return -1;
    k->items[k->n].role = strdup(role);
    k->items[k->n].key = key;
    if (!k->items[k->n].role)
        return -1;
    k->n++;
    return 0;
}

int hx_keyring_load(const hx_options *o, hx_keyring *k, char *err,
                    size_t errlen)
{
    const char *env = getenv("BSM_MSP_API_KEY");
    size_t nroles, i;
    const mspf_role *roles = mspf_roles(&nroles);
    memset(k, 0, sizeof *k);
    if (!o->api_key_file && !(env && *env) && o->n_credentials == 0) {
        /* nothing given: fake-msp's built-in keys, every role */
        for (i = 0; i < nroles; i++) {
            char *key = strdup(roles[i].default_key);
            if (!key || put(k, roles[i].name, key) != 0)
                goto nomem;
        }
        return 0;
    }
    {
        char *key = strdup(mspf_role_find("invalid")->default_key);
        if (!key || put(k, "invalid", key) != 0)
            goto nomem;
    }
    if (o->api_key_file || (env && *env)) {
        char *key =
            o->api_key_file ? read_key_file(o->api_key_file) : strdup(env);
        if (!key) {
            snprintf(err, errlen, "cannot read a key from %s",
                     o->api_key_file ? o->api_key_file : "BSM_MSP_API_KEY");
            return -1;
        }
        if (put(k, MSPF_ROLE_DEFAULT, key) != 0)
            goto nomem;
    }
    for (i = 0; i < o->n_credentials; i++) {
        char *key = read_key_file(o->credentials[i].file);
        if (!key) {
            snprintf(err, errlen, "--credential %s: cannot read a key from %s",
                     o->credentials[i].role, o->credentials[i].file);
            return -1;
        }
        if (put(k, o->credentials[i].role, key) != 0)
            goto nomem;
    }
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

const char *hx_keyring_get(const hx_keyring *k, const char *role)
{
    for (size_t i = 0; k && i < k->n; i++)
        if (strcmp(k->items[i].role, role) == 0)
            return k->items[i].key;
    return NULL;
}

void hx_keyring_free(hx_keyring *k)
{
    for (size_t i = 0; k && i < k->n; i++) {
        if (k->items[i].key) {
            memset(k->items[i].key, 0, strlen(k->items[i].key));
            free(k->items[i].key);
        }
        free(k->items[i].role);
    }
    if (k)
        k->n = 0;
}

const char *hx_fixture_key(const mspf_fixture *f, const hx_target *t)
{
    const mspf_role *r;
    if (f->api_key)
        return f->api_key;
    r = f->credential ? mspf_role_find(f->credential) : NULL;
    return r ? r->default_key : t->default_key;
}
