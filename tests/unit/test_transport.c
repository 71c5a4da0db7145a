/*
 * The stream transport on its memory backend and the fake clock: events,
 * the output cap, low water, pause and resume, timeout, graceful close
 * and linger, the deferred free, and a framing in between.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/transport.h"
#include "../../common/util.h"
#include "unit.h"

struct owner {
	struct transport	 tp;
	struct buf		 in;		/* DATA_IN bytes */
	int			 n[TP_GONE + 1];	/* events seen */
	char			 why[128];	/* TP_ERROR's cause */
	bool			 echo;
	bool			 close_on_timeout;
};

static void
owner_cb(struct transport *tp, enum tp_event ev, const char *p, size_t n,
    void *arg)
{
	struct owner	*o = arg;

	o->n[ev]++;
	switch (ev) {
	case TP_DATA_IN:
		(void)buf_append(&o->in, p, n);
		if (o->echo)
			(void)tp_write(tp, p, n);
		break;
	case TP_TIMEOUT:
		if (o->close_on_timeout) {
			(void)tp_write(tp, "bye", 3);
			tp_close(tp);
		}
		break;
	case TP_ERROR:
		snprintf(o->why, sizeof(o->why), "%.*s", (int)n, p);
		break;
	case TP_GONE:
		buf_clear(&o->in);
		break;
	default:
		break;
	}
}

static struct owner *
owner_new(size_t cap)
{
	struct owner	*o = calloc(1, sizeof(*o));

	assert_non_null(o);
	buf_init(&o->in, 0);
	tp_init(&o->tp, cap, owner_cb, o);
	tp_open(&o->tp, -1);
	return o;
}

static void
setup(void)
{
	clock_fake_start(100);
	tp_use_memory(true);
}

static void
test_transport_echo_and_eof(void **state)
{
	struct owner	*o;

	(void)state;
	setup();
	o = owner_new(1024);
	o->echo = true;
	tp_mem_inject(&o->tp, "hello", 5);
	assert_int_equal(o->n[TP_DATA_IN], 0);	/* read in the loop */
	transport_run();
	assert_int_equal(o->n[TP_DATA_IN], 1);
	assert_string_equal(tp_mem_output(&o->tp), "hello");
	/* the peer closes: we are told, flush, half-close, and free */
	tp_mem_eof(&o->tp);
	transport_run();
	assert_int_equal(o->n[TP_CLOSED], 1);
	assert_int_equal(o->n[TP_ERROR], 0);
	assert_int_equal(o->n[TP_GONE], 1);
	free(o);
}

/* reading waits while paused; the bytes are kept for the resume */
static void
test_transport_pause_resume(void **state)
{
	struct owner	*o;

	(void)state;
	setup();
	o = owner_new(1024);
	tp_pause(&o->tp);
	tp_mem_inject(&o->tp, "abc", 3);
	transport_run();
	assert_int_equal(o->n[TP_DATA_IN], 0);
	tp_resume(&o->tp);
	transport_run();
	assert_int_equal(o->n[TP_DATA_IN], 1);
	assert_int_equal(buf_avail(&o->in), 3);
	tp_kill(&o->tp);
	transport_run();
	assert_int_equal(o->n[TP_GONE], 1);
	free(o);
}

/* the cap: the write fails and the queue is emptied for an error */
static void
test_transport_output_cap(void **state)
{
	struct owner	*o;
	char		 big[64];

	(void)state;
	setup();
	memset(big, 'x', sizeof(big));
	o = owner_new(100);
	assert_int_equal(tp_write(&o->tp, big, 64), 0);
	assert_int_equal(tp_write(&o->tp, big, 64), -1);
	assert_int_equal(tp_out_pending(&o->tp), 0);
	assert_int_equal(tp_write(&o->tp, "error", 5), 0);
	transport_run();
	assert_string_equal(tp_mem_output(&o->tp), "error");
	tp_kill(&o->tp);
	transport_run();
	free(o);
}

/* low water: once the queue drains after passing the high mark */
static void
test_transport_low_water(void **state)
{
	struct owner	*o;
	char		 big[64];

	(void)state;
	setup();
	memset(big, 'x', sizeof(big));
	o = owner_new(1024);
	tp_set_marks(&o->tp, 16, 100);
	assert_int_equal(tp_write(&o->tp, big, 64), 0);
	transport_run();
	assert_int_equal(o->n[TP_LOW_WATER], 0);	/* never above high */
	assert_int_equal(tp_write(&o->tp, big, 64), 0);
	assert_int_equal(tp_write(&o->tp, big, 64), 0);
	transport_run();
	assert_int_equal(o->n[TP_LOW_WATER], 1);
	tp_kill(&o->tp);
	transport_run();
	free(o);
}

/* timeout, then a close whose peer never answers: the linger ends it */
static void
test_transport_timeout_and_linger(void **state)
{
	struct owner	*o;

	(void)state;
	setup();
	o = owner_new(1024);
	o->close_on_timeout = true;
	tp_set_timeout(&o->tp, 5);
	clock_advance(4.9);
	transport_run();
	assert_int_equal(o->n[TP_TIMEOUT], 0);
	clock_advance(0.2);
	transport_run();
	assert_int_equal(o->n[TP_TIMEOUT], 1);
	assert_string_equal(tp_mem_output(&o->tp), "bye");
	assert_true(tp_mem_shut(&o->tp));
	/* what the peer still sends is thrown away */
	tp_mem_inject(&o->tp, "late", 4);
	transport_run();
	assert_int_equal(o->n[TP_DATA_IN], 0);
	assert_int_equal(o->n[TP_GONE], 0);
	clock_advance(TP_LINGER);
	transport_run();
	assert_int_equal(o->n[TP_GONE], 1);
	assert_int_equal(o->n[TP_ERROR], 0);
	free(o);
}

/* a failed connect is an error event; nothing is freed inside it */
static void
test_transport_connect_fails(void **state)
{
	struct owner	*o = calloc(1, sizeof(*o));
	struct sockaddr	 sa = { .sa_family = AF_INET };

	(void)state;
	setup();
	buf_init(&o->in, 0);
	tp_init(&o->tp, 1024, owner_cb, o);
	assert_int_equal(tp_connect(&o->tp, &sa, sizeof(sa)), 0);
	tp_mem_connected(&o->tp, 111);
	assert_int_equal(o->n[TP_ERROR], 1);
	assert_int_equal(o->n[TP_GONE], 0);
	assert_non_null(strstr(o->why, "connect"));
	transport_run();
	assert_int_equal(o->n[TP_GONE], 1);
	free(o);
}

/* a framing: each byte read arrives doubled; writes go out bracketed */
static int
twice_decode(struct transport *tp, const char *p, size_t n,
    void (*emit)(struct transport *, const char *, size_t))
{
	size_t	i;

	for (i = 0; i < n; i++) {
		emit(tp, p + i, 1);
		emit(tp, p + i, 1);
	}
	return 0;
}

static int
bracket_encode(struct transport *tp, const char *p, size_t n)
{
	if (tp_write_raw(tp, "[", 1) == -1 || tp_write_raw(tp, p, n) == -1)
		return -1;
	return tp_write_raw(tp, "]", 1);
}

static const struct tp_framing	test_framing = {
	twice_decode, bracket_encode
};

static void
test_transport_framing(void **state)
{
	struct owner	*o;

	(void)state;
	setup();
	o = owner_new(1024);
	o->tp.framing = &test_framing;
	tp_mem_inject(&o->tp, "ab", 2);
	transport_run();
	assert_int_equal(buf_avail(&o->in), 4);
	assert_memory_equal(buf_rptr(&o->in), "aabb", 4);
	assert_int_equal(tp_write(&o->tp, "x", 1), 0);
	transport_run();
	assert_string_equal(tp_mem_output(&o->tp), "[x]");
	tp_kill(&o->tp);
	transport_run();
	free(o);
}

UNIT_MAIN(
	cmocka_unit_test(test_transport_echo_and_eof),
	cmocka_unit_test(test_transport_pause_resume),
	cmocka_unit_test(test_transport_output_cap),
	cmocka_unit_test(test_transport_low_water),
	cmocka_unit_test(test_transport_timeout_and_linger),
	cmocka_unit_test(test_transport_connect_fails),
	cmocka_unit_test(test_transport_framing),
)
