/*
 * C unit test of the qwire ABI. Linked with a malloc that aborts: the
 * library must never allocate. Output goes to stderr (unbuffered, so stdio
 * itself does not allocate either).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qwire.h"

#ifndef QW_TEST_NO_MALLOC_TRAP
void *malloc(size_t n);
void *calloc(size_t n, size_t m);
void *realloc(void *p, size_t n);
void free(void *p);

void *malloc(size_t n)
{
    (void)n;
    fputs("test_api: malloc called\n", stderr);
    abort();
}

void *calloc(size_t n, size_t m)
{
    (void)n;
    (void)m;
    fputs("test_api: calloc called\n", stderr);
    abort();
}

void *realloc(void *p, size_t n)
{
    (void)p;
    (void)n;
    fputs("test_api: realloc called\n", stderr);
    abort();
}

void free(void *p)
{
    if (p != NULL) {
        fputs("test_api: free of a pointer we never gave out\n", stderr);
        abort();
    }
}
#endif

static int failures;
static int checks;

#define CHECK(cond)                                                              \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                          \
        }                                                                        \
    } while (0)

#define S(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

/* Storage in static memory, as firmware would have it. */
static qw_framer static_framer;

static void test_sizes_and_status(void)
{
    CHECK(sizeof(qw_framer) == QW_FRAMER_SIZE);
    CHECK(sizeof(qw_qga_agent) == QW_QGA_AGENT_SIZE);
    CHECK(sizeof(qw_qga_client) == QW_QGA_CLIENT_SIZE);
    CHECK(sizeof(qw_qmp_client) == QW_QMP_CLIENT_SIZE);
    CHECK(sizeof(qw_qmp_server) == QW_QMP_SERVER_SIZE);
    CHECK(sizeof(qw_writer) == QW_WRITER_SIZE);
    CHECK(strcmp(qw_status_str(QW_OK), "ok") == 0);
    CHECK(strcmp(qw_status_str(QW_ERR_BUFFER_TOO_SMALL), "buffer too small") == 0);
    CHECK(strcmp(qw_status_str(9999), "unknown status") == 0);
    CHECK(strncmp(qw_version(), "0.", 2) == 0);
    CHECK(QW_VERSION_MAJOR == 0);
}

static void test_framer(void)
{
    static const char stream[] =
        "{\"return\": {}}\r\n@@\n\xff{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}"
        "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33] 42";
    uint8_t buf[80];
    size_t i, used = 0;
    int frames = 0, errors = 0, sentinels = 0, too_large = 0;
    qw_message_kind kinds[4];
    qw_event ev;
    qw_framer_config cfg = {0, false};

    CHECK(qw_framer_init(&static_framer, buf, sizeof buf, &cfg) == QW_OK);
    /* One byte at a time: every outcome must still come out right. */
    for (i = 0; i < sizeof stream - 1; i++) {
        size_t off = 0;
        while (off < 1) {
            CHECK(qw_framer_feed(&static_framer, (const uint8_t *)stream + i, 1 - off, &used, &ev) == QW_OK);
            off += used;
            if (ev.kind == QW_EVENT_FRAME) {
                CHECK(qw_classify(ev.frame, &kinds[frames < 4 ? frames : 3]) == QW_OK);
                frames++;
            } else if (ev.kind == QW_EVENT_ERROR) {
                CHECK(ev.error == QW_ERROR_SYNTAX);
                CHECK(ev.at == 16);
                errors++;
            } else if (ev.kind == QW_EVENT_SENTINEL) {
                CHECK(ev.at == 19);
                sentinels++;
            } else if (ev.kind == QW_EVENT_TOO_LARGE) {
                CHECK(ev.len == 91);
                too_large++;
            }
        }
    }
    CHECK(qw_framer_finish(&static_framer, &ev) == QW_OK);
    CHECK(ev.kind == QW_EVENT_FRAME && ev.len == 2 && memcmp(ev.frame.ptr, "42", 2) == 0);
    CHECK(frames == 2 && errors == 1 && sentinels == 1 && too_large == 1);
    CHECK(kinds[0] == QW_MESSAGE_RETURN && kinds[1] == QW_MESSAGE_EVENT);
    CHECK(strcmp(qw_message_kind_str(QW_MESSAGE_OOB_COMMAND), "oob-command") == 0);
    CHECK(strcmp(qw_error_kind_str(QW_ERROR_DEPTH), "depth") == 0);

    /* Bad configuration and uninitialised storage are refused. */
    {
        qw_framer f;
        qw_framer_config deep = {2000, false};
        memset(&f, 0, sizeof f);
        CHECK(qw_framer_feed(&f, S("{}"), &used, &ev) == QW_ERR_NOT_INITIALIZED);
        CHECK(qw_framer_init(&f, buf, sizeof buf, &deep) == QW_ERR_INVALID_ARGUMENT);
        CHECK(qw_framer_init(&f, NULL, 10, NULL) == QW_ERR_NULL);
        CHECK(qw_framer_init(NULL, buf, sizeof buf, NULL) == QW_ERR_NULL);
        CHECK(qw_framer_init(&f, buf, sizeof buf, NULL) == QW_OK);
        CHECK(qw_framer_feed(&f, S("{}"), NULL, &ev) == QW_ERR_NULL);
        CHECK(qw_framer_feed(&f, NULL, 3, &used, &ev) == QW_ERR_NULL);
        CHECK(qw_framer_reset(&f) == QW_OK);
    }
}

static void test_json(void)
{
    static const char doc[] =
        "{\"return\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": \"v7.2\"},"
        " \"id\": [\"a\\u00e9\\uD83D\\uDE00\\n\", -9223372036854775808, 18446744073709551615, 1.5, true, null, {}]}";
    qw_json v, x, key;
    qw_json_iter it;
    qw_json_type t;
    int64_t i64 = 0;
    uint64_t u64 = 0;
    double d = 0;
    bool b = false;
    char text[32];
    size_t len = 12345;
    int n = 0;

    CHECK(qw_json_parse(S(doc), false, &v) == QW_OK);
    CHECK(qw_json_parse(S("{'a': 1}"), false, &x) == QW_ERR_INVALID_JSON);
    CHECK(qw_json_parse(S("{'a': 1}"), true, &x) == QW_OK);
    CHECK(qw_json_parse(S("[] []"), false, &x) == QW_ERR_INVALID_JSON);
    CHECK(qw_json_pointer(v, S("/return/qemu/major"), &x) == QW_OK);
    CHECK(qw_json_int(x, &i64) == QW_OK && i64 == 7);
    CHECK(qw_json_pointer(v, S("/return/nothing"), &x) == QW_ERR_NOT_FOUND);
    CHECK(qw_json_pointer(v, S("/id/1"), &x) == QW_OK);
    CHECK(qw_json_int(x, &i64) == QW_OK && i64 == INT64_MIN);
    CHECK(qw_json_uint(x, &u64) == QW_ERR_OUT_OF_RANGE);
    CHECK(qw_json_pointer(v, S("/id/2"), &x) == QW_OK);
    CHECK(qw_json_uint(x, &u64) == QW_OK && u64 == UINT64_MAX);
    CHECK(qw_json_int(x, &i64) == QW_ERR_OUT_OF_RANGE);
    CHECK(qw_json_pointer(v, S("/id/3"), &x) == QW_OK);
    CHECK(qw_json_int(x, &i64) == QW_ERR_WRONG_TYPE);
    CHECK(qw_json_double(x, &d) == QW_OK && d == 1.5);
    CHECK(qw_json_pointer(v, S("/id/4"), &x) == QW_OK);
    CHECK(qw_json_bool(x, &b) == QW_OK && b);
    CHECK(qw_json_pointer(v, S("/id/5"), &x) == QW_OK);
    CHECK(qw_json_type_of(x, &t) == QW_OK && t == QW_JSON_NULL);
    CHECK(qw_json_get(v, S("return"), &x) == QW_OK);
    CHECK(qw_json_get(x, S("package"), &x) == QW_OK);
    CHECK(qw_json_string(x, (uint8_t *)text, sizeof text, &len) == QW_OK && len == 4 && strcmp(text, "v7.2") == 0);

    /* Escapes and a surrogate pair come out as UTF-8. */
    CHECK(qw_json_pointer(v, S("/id/0"), &x) == QW_OK);
    CHECK(qw_json_string_len(x, &len) == QW_OK && len == 8);
    len = 777;
    CHECK(qw_json_string(x, (uint8_t *)text, 8, &len) == QW_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 777); /* outputs are written only on success */
    CHECK(qw_json_string(x, (uint8_t *)text, 9, &len) == QW_OK && len == 8);
    CHECK(memcmp(text, "a\xc3\xa9\xf0\x9f\x98\x80\n", 9) == 0);
    CHECK(qw_json_int(x, &i64) == QW_ERR_WRONG_TYPE);

    /* Iterating an object gives keys and values in wire order. */
    CHECK(qw_json_iter_init(v, &it) == QW_OK);
    while (qw_json_iter_next(&it, &key, &x) == QW_OK) {
        char k[16];
        CHECK(qw_json_string(key, (uint8_t *)k, sizeof k, &len) == QW_OK);
        CHECK(strcmp(k, n == 0 ? "return" : "id") == 0);
        n++;
    }
    CHECK(n == 2);
    CHECK(qw_json_iter_next(&it, &key, &x) == QW_END);
    CHECK(qw_json_pointer(v, S("/id"), &x) == QW_OK);
    CHECK(qw_json_iter_init(x, &it) == QW_OK);
    for (n = 0; qw_json_iter_next(&it, NULL, &key) == QW_OK; n++) {
    }
    CHECK(n == 7);
    CHECK(qw_json_iter_init(key, &it) == QW_OK); /* the last element, {} */
    CHECK(qw_json_iter_next(&it, NULL, &x) == QW_END);
    CHECK(qw_json_pointer(v, S("/id/1"), &x) == QW_OK);
    CHECK(qw_json_iter_init(x, &it) == QW_ERR_WRONG_TYPE);

    /* NULL everywhere is refused. */
    CHECK(qw_json_parse(NULL, 3, false, &x) == QW_ERR_NULL);
    CHECK(qw_json_parse(S("1"), false, NULL) == QW_ERR_NULL);
    CHECK(qw_json_pointer(v, NULL, 1, &x) == QW_ERR_NULL);
    CHECK(qw_json_int(v, NULL) == QW_ERR_NULL);
    CHECK(qw_json_iter_next(NULL, NULL, &x) == QW_ERR_NULL);
}

static void test_writer(void)
{
    qw_writer w;
    uint8_t out[128];
    uint8_t tiny[8];
    size_t len = 0;
    qw_json args;

    CHECK(qw_writer_init(&w, out, sizeof out) == QW_OK);
    CHECK(qw_writer_begin_object(&w) == QW_OK);
    CHECK(qw_writer_key(&w, S("execute")) == QW_OK);
    CHECK(qw_writer_string(&w, S("guest-file-open")) == QW_OK);
    CHECK(qw_writer_key(&w, S("arguments")) == QW_OK);
    CHECK(qw_writer_begin_object(&w) == QW_OK);
    CHECK(qw_writer_key(&w, S("path")) == QW_OK);
    CHECK(qw_writer_string(&w, S("/tmp/\"q\"\xc3\xa9\n")) == QW_OK);
    CHECK(qw_writer_key(&w, S("n")) == QW_OK);
    CHECK(qw_writer_int(&w, -5) == QW_OK);
    CHECK(qw_writer_key(&w, S("list")) == QW_OK);
    CHECK(qw_json_parse(S("[ true , null , 'x' ]"), true, &args) == QW_OK);
    CHECK(qw_writer_json(&w, args) == QW_OK);
    CHECK(qw_writer_end_object(&w) == QW_OK);
    CHECK(qw_writer_end_object(&w) == QW_OK);
    CHECK(qw_writer_finish(&w, &len) == QW_OK);
    {
        static const char want[] =
            "{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"/tmp/\\\"q\\\"\\u00E9\\n\",\"n\":-5,"
            "\"list\":[true,null,\"x\"]}}";
        CHECK(len == sizeof want - 1 && memcmp(out, want, len) == 0);
    }
    CHECK(qw_writer_begin_object(&w) == QW_ERR_NOT_INITIALIZED); /* finished */

    CHECK(qw_writer_init(&w, out, sizeof out) == QW_OK);
    CHECK(qw_writer_begin_object(&w) == QW_OK);
    CHECK(qw_writer_int(&w, 1) == QW_ERR_WRITER_MISUSE);
    CHECK(qw_writer_init(&w, out, sizeof out) == QW_OK);
    CHECK(qw_writer_string(&w, S("\xff")) == QW_ERR_INVALID_UTF8);
    CHECK(qw_writer_json_text(&w, S("{\"a\":")) == QW_ERR_INVALID_JSON);

    memset(tiny, 0xAA, sizeof tiny);
    CHECK(qw_writer_init(&w, tiny, 4) == QW_OK);
    CHECK(qw_writer_string(&w, S("hello")) == QW_ERR_BUFFER_TOO_SMALL);
    CHECK(tiny[4] == 0xAA && tiny[7] == 0xAA); /* nothing past the end */
    CHECK(qw_writer_finish(&w, &len) == QW_ERR_BUFFER_TOO_SMALL);
    CHECK(qw_writer_key(NULL, S("a")) == QW_ERR_NULL);
}

/* ---- sessions, in process: a client talking to a server/agent ---- */

static int handler_calls;

static qw_status test_handler(void *user, const qw_call *call, qw_reply *reply)
{
    int *flag = user;
    handler_calls++;
    if (strcmp(call->name, "get-answer") == 0) {
        CHECK(qw_reply_ok_json(reply, S("{\"answer\": 42")) == QW_ERR_INVALID_JSON);
        CHECK(qw_reply_ok_json(reply, S("{\"answer\": 42}")) == QW_OK);
        CHECK(qw_reply_ok_empty(reply) == QW_ERR_BAD_STATE); /* only one answer */
    } else if (strcmp(call->name, "fail") == 0) {
        CHECK(qw_reply_error(reply, 99, S("x")) == QW_ERR_INVALID_ARGUMENT);
        CHECK(qw_reply_error(reply, QW_CLASS_DEVICE_NOT_ACTIVE, S("No device")) == QW_OK);
    } else if (strcmp(call->name, "stop") == 0) {
        CHECK(qw_reply_event(reply, S("STOP"), NULL, 0, 1, 2) == QW_OK);
        CHECK(qw_reply_ok_empty(reply) == QW_OK);
    } else if (strcmp(call->name, "quiet") == 0) {
        *flag = 1;
        CHECK(qw_reply_ok_empty(reply) == QW_OK); /* success-response false: nothing sent */
    }
    /* "forgetful" answers nothing: the library answers for it. */
    return QW_OK;
}

static const qw_command test_commands[] = {
    {"get-answer", true, false},
    {"fail", true, false},
    {"stop", true, false},
    {"quiet", false, false},
    {"forgetful", true, false},
};

/* Feed all of `in` to a QGA agent, collecting its replies in `out`. */
static size_t agent_pump(qw_qga_agent *a, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    size_t off = 0, n = 0;
    while (off < len) {
        size_t used = 0, rlen = 0;
        const uint8_t *r = NULL;
        CHECK(qw_qga_agent_feed(a, in + off, len - off, &used, &r, &rlen) == QW_OK);
        if (n + rlen <= cap) {
            memcpy(out + n, r, rlen);
            n += rlen;
        }
        off += used;
    }
    return n;
}

/* Feed all of `in` to a QGA client; the last event that is not NOTHING or
 * DISCARDED is returned in `*last`. */
static void client_pump(qw_qga_client *c, const uint8_t *in, size_t len, qw_qga_event *last)
{
    size_t off = 0;
    while (off < len) {
        size_t used = 0;
        qw_qga_event ev;
        CHECK(qw_qga_client_feed(c, in + off, len - off, &used, &ev) == QW_OK);
        if (ev.kind != QW_QGA_EVENT_NOTHING && ev.kind != QW_QGA_EVENT_DISCARDED) {
            *last = ev;
        }
        off += used;
    }
}

static void test_qga(void)
{
    static qw_qga_agent agent;
    static uint8_t in_buf[1024], out_buf[4096];
    qw_qga_client client;
    uint8_t cbuf[1024], tx[256], replies[4096];
    size_t n = 0, written = 0;
    bool expects = false, answers = true;
    int quiet = 0;
    qw_qga_event ev;
    qw_qga_state state;
    char text[128];

    CHECK(qw_qga_agent_init(&agent, in_buf, sizeof in_buf, out_buf, 100, "9.9", test_commands, 5,
                            test_handler, &quiet) == QW_ERR_BUFFER_TOO_SMALL);
    CHECK(qw_qga_agent_init(&agent, in_buf, sizeof in_buf, out_buf, sizeof out_buf, "9.9", test_commands, 5,
                            test_handler, &quiet) == QW_OK);
    CHECK(qw_qga_client_init(&client, cbuf, sizeof cbuf) == QW_OK);
    CHECK(qw_qga_client_state(&client, &state) == QW_OK && state == QW_QGA_NEED_SYNC);

    /* A dirty channel: half a request is already in the agent. */
    n = agent_pump(&agent, S("{\"execute\": \"guest-sy"), replies, sizeof replies);
    CHECK(n == 0);
    CHECK(qw_qga_client_sync(&client, 777, tx, sizeof tx, &written) == QW_OK);
    CHECK(tx[0] == 0xff);
    n = agent_pump(&agent, tx, written, replies, sizeof replies);
    /* The agent's parse error for the 0xFF, then 0xFF + the sync reply. */
    CHECK(n > 0 && memchr(replies, 0xff, n) != NULL);
    client_pump(&client, replies, n, &ev);
    CHECK(ev.kind == QW_QGA_EVENT_SYNCED && ev.sync_id == 777);

    CHECK(qw_qga_client_send(&client, S("get-answer"), NULL, 0, true, tx, sizeof tx, &written, &expects) == QW_OK);
    CHECK(expects);
    CHECK(qw_qga_client_send(&client, S("get-answer"), NULL, 0, true, tx, sizeof tx, &written, &expects)
          == QW_ERR_BAD_STATE); /* one at a time */
    n = agent_pump(&agent, tx, written, replies, sizeof replies);
    client_pump(&client, replies, n, &ev);
    CHECK(ev.kind == QW_QGA_EVENT_RETURN);
    CHECK(qw_json_pointer(ev.value, S("/answer"), &ev.value) == QW_OK);

    CHECK(qw_qga_client_send(&client, S("fail"), S("{}"), true, tx, sizeof tx, &written, &expects) == QW_OK);
    n = agent_pump(&agent, tx, written, replies, sizeof replies);
    client_pump(&client, replies, n, &ev);
    CHECK(ev.kind == QW_QGA_EVENT_ERROR);
    CHECK(qw_json_string(ev.error_class, (uint8_t *)text, sizeof text, &n) == QW_OK);
    CHECK(strcmp(text, "DeviceNotActive") == 0);

    CHECK(qw_qga_client_send(&client, S("forgetful"), NULL, 0, true, tx, sizeof tx, &written, &expects) == QW_OK);
    n = agent_pump(&agent, tx, written, replies, sizeof replies);
    client_pump(&client, replies, n, &ev);
    CHECK(ev.kind == QW_QGA_EVENT_ERROR);
    CHECK(qw_json_string(ev.error_desc, (uint8_t *)text, sizeof text, &n) == QW_OK);
    CHECK(strcmp(text, "the command's handler gave no reply") == 0);

    CHECK(qw_qga_success_response(S("guest-shutdown"), &answers) == QW_OK && !answers);
    CHECK(qw_qga_client_send(&client, S("quiet"), NULL, 0, false, tx, sizeof tx, &written, &expects) == QW_OK);
    CHECK(!expects);
    n = agent_pump(&agent, tx, written, replies, sizeof replies);
    CHECK(n == 0 && quiet == 1);

    /* Disabled commands and unknown ones answer like qemu-ga. */
    CHECK(qw_qga_agent_set_enabled(&agent, S("fail"), false) == QW_OK);
    CHECK(qw_qga_agent_set_enabled(&agent, S("nope"), false) == QW_ERR_NOT_FOUND);
    n = agent_pump(&agent, S("{\"execute\":\"fail\",\"id\":1}{\"execute\":\"x\"}"), replies, sizeof replies);
    {
        static const char want[] =
            "{\"id\":1,\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Command fail has been disabled\"}}\n"
            "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command x has not been found\"}}\n";
        CHECK(n == sizeof want - 1 && memcmp(replies, want, n) == 0);
    }
    /* guest-info lists the built-ins and the table with their flags. */
    n = agent_pump(&agent, S("{\"execute\":\"guest-info\"}"), replies, sizeof replies);
    {
        qw_json info, v;
        bool flag = true;
        CHECK(n > 1 && qw_json_parse(replies, n - 1, false, &info) == QW_OK);
        CHECK(qw_json_pointer(info, S("/return/supported_commands/4/name"), &v) == QW_OK);
        CHECK(qw_json_string(v, (uint8_t *)text, sizeof text, &n) == QW_OK && strcmp(text, "get-answer") == 0);
        CHECK(qw_json_pointer(info, S("/return/supported_commands/5/enabled"), &v) == QW_OK);
        CHECK(qw_json_bool(v, &flag) == QW_OK && !flag);
        CHECK(qw_json_pointer(info, S("/return/supported_commands/7/success-response"), &v) == QW_OK);
        CHECK(qw_json_bool(v, &flag) == QW_OK && !flag);
    }
    CHECK(qw_qga_client_timeout(&client) == QW_OK);
    CHECK(qw_qga_agent_reset(&agent) == QW_OK);
    CHECK(handler_calls == 4);
}

static size_t server_pump(qw_qmp_server *s, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    size_t off = 0, n = 0;
    while (off < len) {
        size_t used = 0, w = 0;
        CHECK(qw_qmp_server_feed(s, in + off, len - off, out + n, cap - n, &used, &w) == QW_OK);
        n += w;
        off += used;
    }
    return n;
}

static void test_qmp(void)
{
    static qw_qmp_server server;
    static uint8_t sbuf[1024], cbuf[2048], tx[256], rx[4096];
    qw_qmp_client client;
    qw_qmp_event ev;
    qw_qmp_state state;
    size_t n, written = 0, off, used;
    uint64_t id = 0, major = 0, minor = 0, micro = 0;
    int quiet = 0, saw_event = 0;
    char text[128];
    bool negotiated = true;

    CHECK(qw_qmp_server_init(&server, sbuf, sizeof sbuf, 7, 2, 22, "qwire-test", true, test_commands, 5,
                             test_handler, &quiet) == QW_OK);
    CHECK(qw_qmp_client_init(&client, cbuf, sizeof cbuf) == QW_OK);
    CHECK(qw_qmp_server_greeting(&server, rx, sizeof rx, &n) == QW_OK && n > 0);
    CHECK(memcmp(rx + n - 2, "\r\n", 2) == 0);
    CHECK(qw_qmp_server_event(&server, S("X"), NULL, 0, 1, 1, tx, sizeof tx, &written) == QW_ERR_BAD_STATE);
    CHECK(qw_qmp_client_feed(&client, rx, n, &used, &ev) == QW_OK && ev.kind == QW_QMP_EVENT_GREETING);
    CHECK(qw_qmp_client_version(&client, &major, &minor, &micro) == QW_OK && major == 7 && micro == 22);
    CHECK(qw_qmp_client_send(&client, S("stop"), NULL, 0, false, tx, sizeof tx, &id, &written) == QW_ERR_BAD_STATE);
    CHECK(qw_qmp_client_negotiate(&client, true, tx, sizeof tx, &written) == QW_OK);
    n = server_pump(&server, tx, written, rx, sizeof rx);
    CHECK(qw_qmp_client_feed(&client, rx, n, &used, &ev) == QW_OK && ev.kind == QW_QMP_EVENT_NEGOTIATED && ev.oob);
    CHECK(qw_qmp_server_negotiated(&server, &negotiated) == QW_OK && negotiated);
    CHECK(qw_qmp_client_state(&client, &state) == QW_OK && state == QW_QMP_READY);

    /* stop: the STOP event arrives before the reply. */
    CHECK(qw_qmp_client_send(&client, S("stop"), NULL, 0, false, tx, sizeof tx, &id, &written) == QW_OK);
    n = server_pump(&server, tx, written, rx, sizeof rx);
    for (off = 0; off < n; off += used) {
        CHECK(qw_qmp_client_feed(&client, rx + off, n - off, &used, &ev) == QW_OK);
        if (ev.kind == QW_QMP_EVENT_EVENT) {
            CHECK(qw_json_string(ev.event_name, (uint8_t *)text, sizeof text, &written) == QW_OK);
            CHECK(strcmp(text, "STOP") == 0 && ev.seconds == 1 && ev.microseconds == 2);
            saw_event = 1;
        } else if (ev.kind == QW_QMP_EVENT_RETURN) {
            CHECK(saw_event && ev.id == id);
        }
    }
    CHECK(saw_event);

    CHECK(qw_qmp_client_send(&client, S("fail"), S("{}"), false, tx, sizeof tx, &id, &written) == QW_OK);
    n = server_pump(&server, tx, written, rx, sizeof rx);
    CHECK(qw_qmp_client_feed(&client, rx, n, &used, &ev) == QW_OK && ev.kind == QW_QMP_EVENT_ERROR && ev.id == id);
    CHECK(qw_json_string(ev.error_desc, (uint8_t *)text, sizeof text, &written) == QW_OK);
    CHECK(strcmp(text, "No device") == 0);

    /* exec-oob of a command that does not allow it; a bad argument text. */
    CHECK(qw_qmp_client_send(&client, S("get-answer"), S("[1]"), false, tx, sizeof tx, &id, &written)
          == QW_ERR_WRONG_TYPE);
    CHECK(qw_qmp_client_send(&client, S("get-answer"), NULL, 0, true, tx, sizeof tx, &id, &written) == QW_OK);
    n = server_pump(&server, tx, written, rx, sizeof rx);
    CHECK(qw_qmp_client_feed(&client, rx, n, &used, &ev) == QW_OK && ev.kind == QW_QMP_EVENT_ERROR);
    CHECK(qw_json_string(ev.error_desc, (uint8_t *)text, sizeof text, &written) == QW_OK);
    CHECK(strcmp(text, "The command get-answer does not support OOB") == 0);

    /* Garbage on the wire is answered, and the session goes on. */
    n = server_pump(&server, S("\x01"), rx, sizeof rx);
    CHECK(qw_qmp_client_feed(&client, rx, n, &used, &ev) == QW_OK && ev.kind == QW_QMP_EVENT_UNSOLICITED);
    CHECK(qw_qmp_server_event(&server, S("RESUME"), S("{\"a\":1}"), 5, 6, tx, sizeof tx, &written) == QW_OK);
    CHECK(qw_qmp_client_feed(&client, tx, written, &used, &ev) == QW_OK && ev.kind == QW_QMP_EVENT_EVENT);
    CHECK(qw_qmp_client_abandon(&client, 12345) == QW_ERR_NOT_FOUND);
    CHECK(qw_qmp_server_reset(&server) == QW_OK);
}

int main(void)
{
    test_sizes_and_status();
    test_framer();
    test_json();
    test_writer();
    test_qga();
    test_qmp();
    if (failures != 0) {
        fprintf(stderr, "test_api: %d of %d checks failed\n", failures, checks);
        return 1;
    }
    fprintf(stderr, "test_api: all %d checks passed (no allocation)\n", checks);
    return 0;
}
