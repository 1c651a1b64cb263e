/* The tool catalogue (contracts/tools.h): its schemas parse, names are
 * unique, and the params check fake-msp answers with holds the bounds. */
#include <criterion/criterion.h>
#include <string.h>

#include <contracts/tools.h>

Test(tools, every_schema_parses_and_names_are_unique)
{
    size_t n;
    const mspf_tool *t = mspf_tools(&n);
    cr_assert_geq(n, 4);
    for (size_t i = 0; i < n; i++) {
        cr_assert_not_null(mspf_tool_params(&t[i]), "%s", t[i].name);
        cr_assert_eq(mspf_tool_data(&t[i]) != NULL,
                     t[i].reply == MSPF_REPLY_ENVELOPE, "%s", t[i].name);
        cr_assert_eq(mspf_tool_find(t[i].name), &t[i]);
        for (size_t k = i + 1; k < n; k++)
            cr_assert_str_neq(t[i].name, t[k].name);
    }
    cr_assert_null(mspf_tool_find("msp.nonexistent"));
}

Test(tools, pid_bound_is_the_wire_contracts_1_to_4194304)
{
    const cJSON *p = mspf_tool_params(mspf_tool_find("msp.process_kill"));
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(p, "properties"), "pid");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(pid, "minimum")->valueint, 1);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(pid, "maximum")->valuedouble,
                 (double)MSPF_PID_MAX);
}

static int check(const char *tool, const char *params, char *msg, size_t len)
{
    cJSON *j = cJSON_Parse(params);
    int ok = mspf_tool_params_check(mspf_tool_find(tool), j, msg, len);
    cJSON_Delete(j);
    return ok;
}

Test(tools, params_check_takes_4194304_and_refuses_4194305)
{
    char msg[256];
    cr_assert(check("msp.process_kill", "{\"agent_id\":\"a\",\"pid\":4194304}",
                    msg, sizeof msg));
    cr_assert_not(check("msp.process_kill",
                        "{\"agent_id\":\"a\",\"pid\":4194305}", msg,
                        sizeof msg));
    cr_assert_str_eq(msg, "Invalid parameter: pid must be an integer from 1 to "
                          "4194304");
    cr_assert_not(check("msp.process_kill", "{\"agent_id\":\"a\",\"pid\":0}",
                        msg, sizeof msg));
    cr_assert_not(check("msp.process_kill", "{\"agent_id\":\"a\",\"pid\":2.5}",
                        msg, sizeof msg));
}

Test(tools, params_check_names_missing_unknown_and_mistyped_members)
{
    char msg[256];
    cr_assert_not(check("msp.agent_health", "{}", msg, sizeof msg));
    cr_assert_str_eq(msg, "Missing required parameter: agent_id");
    cr_assert_not(check("msp.list_devices", "{\"x\":1}", msg, sizeof msg));
    cr_assert_str_eq(msg, "Unknown parameter: x");
    cr_assert_not(check("msp.list_devices", "{\"query\":5}", msg, sizeof msg));
    cr_assert_str_eq(msg, "Invalid parameter: query must be a string");
    cr_assert(check("msp.list_devices", "{}", msg, sizeof msg));
}
