/*
 * reply.c — queueing a JSON reply on a connection. Used by server.c,
 * admin.c and msp.c alike, so that admin.c never calls back into server.c.
 */
#include <stdlib.h>

#include "server.h"

enum MHD_Result fm_queue_json(struct MHD_Connection *c, unsigned status,
                              char *body, size_t len)
{
    static const char oom[] =
        "{\"success\":false,\"error\":{\"code\":\"INTERNAL\","
        "\"message\":\"out of memory or reply over its cap\"},"
        "\"tool\":null,\"trace_id\":\"trace-oom\"}";
    struct MHD_Response *m;
    enum MHD_Result ok;

    if (!body) {
        m = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom,
                                            MHD_RESPMEM_PERSISTENT);
        status = 500;
    } else {
        m = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    }
    if (!m) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(m, "Content-Type", "application/json");
    ok = MHD_queue_response(c, status, m);
    MHD_destroy_response(m);
    return ok;
}

enum MHD_Result fm_queue_error(struct MHD_Connection *c, unsigned status,
                               const char *code, const char *message)
{
    size_t len;
    char *body = fm_error_body(code, message, NULL, NULL, &len);

    return fm_queue_json(c, status, body, len);
}
