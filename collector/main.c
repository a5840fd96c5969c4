/*
 * main.c - slipwatch-collector: the ingest daemon.
 *
 * Warehouse events arrive over MQTT (collector/mqtt.c) on the daemon's one
 * loop; each message is validated and staged in the store by
 * collector/ingest.c, and once per read burst the batch is committed
 * before libmosquitto may write any PUBACK of it (group commit: nothing the
 * broker considers delivered is ever lost, and a failed commit drops the
 * connection so the broker redelivers the burst).  Rejected messages are
 * logged per reason, rate-limited, and dead-lettered, durably before their
 * PUBACK too: to the dead-letter topic through the store's dead-letter
 * queue (queued in the burst's transaction, published from there by
 * collector/dlq.c and removed only after the broker's PUBACK), or, when
 * [collector] deadletter_file is set, appended to that file and
 * fdatasync'ed after the commit and before on_burst_end lets the PUBACKs
 * go.  A burst that fails anywhere is not acknowledged and comes again;
 * its copies may then be written twice, never lost.
 *
 * Couriers named in [courier NAME] sections are polled by collector/poll.c
 * on the same loop (libcurl multi); their answers go to the journal and
 * the parcels.  Metrics of both go to RRD once per step.  Couriers that push
 * ([push NAME] sections: AfterShip, EasyPost webhooks) are heard by
 * collector/push.c's listener on the same loop, whose updates go through
 * the poll engine (sw_poll_push); polling stays their fallback.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector/conf.h"
#include "collector/dlq.h"
#include "collector/ingest.h"
#include "collector/mqtt.h"
#include "collector/poll.h"
#include "collector/push.h"
#include "conf/registry.h"
#include "lib/clock.h"
#include "lib/daemon.h"
#include "lib/rrd.h"
#include "lib/xmalloc.h"
#include "slipwatch/metrics.h"

#define DEADLETTER_MAX 65536 /* bytes of one dead letter */
/* The file's lines of one read burst: mqtt.c reads at most 1024 messages
 * per burst, so this bound is never reached in practice. */
#define DEADLETTER_BURST_MAX ((size_t)1024 * (DEADLETTER_MAX + 1))

struct collector {
	struct sw_daemon *d;
	struct sw_collector_conf *conf; /* d->state */
	struct sw_metrics *metrics;
	struct sw_ingest *ing;
	struct sw_mqtt *mqtt;
	struct sw_poll_engine *poll; /* courier polling, NULL without couriers */
	struct sw_push *push;	     /* webhook listener, NULL without [push NAME] */
	uint64_t applied_seen;       /* ingest's applied count at the last seed */
	struct sw_daemon_series series; /* time series writer and its timer */
	int deadletter;              /* open deadletter_file (O_APPEND), or -1 */
	struct sw_buf pending;       /* its lines from the open burst */
	struct sw_dlq *dlq;          /* the dead-letter topic's publisher */
	bool dl_queued;              /* the open burst queued copies for it */
	uint64_t backlog_timer;
	struct sw_log_complain reject_c[SW_EVENT_REASON_LAST];
	struct sw_log_complain store_c, deadletter_c, backlog_c;
};

static struct collector collector = { .deadletter = -1 };

/* ---- dead letters ------------------------------------------------------- */

/*
 * The copy of a rejected message, made durable before the message is
 * acknowledged: queued in the burst's store transaction for the dead-letter
 * topic, or staged for the file, which deadletter_flush() writes and syncs
 * before on_burst_end() lets the burst's PUBACKs go.  With neither (an
 * empty topic and no file) it is only logged and counted.  SW_OK, or
 * SW_ESTORE: the message must not be acknowledged.
 */
static enum sw_err deadletter_stage(struct collector *col, const char *topic,
				    const void *payload, size_t len,
				    const struct sw_event_reject *rej)
{
	const char *dl_topic = sw_mqtt_deadletter_topic(col->mqtt);
	struct sw_buf b;
	enum sw_err rc = SW_OK;

	if (col->deadletter < 0 && dl_topic == NULL)
		return SW_OK;
	sw_buf_init(&b, DEADLETTER_MAX);
	if (sw_ingest_deadletter(topic, payload, len, rej, sw_clock_now(), &b) != SW_OK) {
		sw_buf_free(&b); /* cannot happen: the letter shrinks to fit */
		return SW_OK;
	}
	if (col->deadletter >= 0) {
		if (sw_buf_add(&col->pending, b.data, b.len) != SW_OK ||
		    sw_buf_add(&col->pending, "\n", 1) != SW_OK)
			rc = SW_ESTORE; /* over the burst's bound */
	} else {
		rc = sw_ingest_queue_deadletter(col->ing, dl_topic, b.data, b.len);
		col->dl_queued |= rc == SW_OK;
	}
	sw_buf_free(&b);
	return rc;
}

static void deadletter_drop_pending(struct collector *col)
{
	sw_buf_reset(&col->pending);
	col->dl_queued = false;
}

/*
 * Appends the committed burst's dead letters to the file and syncs it.  A
 * failure truncates what was written of the burst (best effort) and
 * returns SW_EIO: the burst is then not acknowledged, and its dead letters
 * are written again when the broker redelivers it.
 */
static enum sw_err deadletter_flush(struct collector *col)
{
	const char *p = col->pending.data;
	size_t left = col->pending.len;
	off_t start;
	ssize_t n;

	if (col->deadletter < 0 || left == 0)
		return SW_OK;
	start = lseek(col->deadletter, 0, SEEK_END);
	while (left > 0) {
		n = write(col->deadletter, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		p += n;
		left -= (size_t)n;
	}
	if (fdatasync(col->deadletter) != 0)
		goto fail;
	sw_log_release(&col->deadletter_c, SW_LOG_NOTICE, "deadletter", "writing %s again",
		       col->conf->deadletter_file);
	sw_buf_reset(&col->pending);
	return SW_OK;
fail:
	sw_log_complain(&col->deadletter_c, SW_LOG_ERR, "deadletter",
			"cannot write %s: %s; the burst will be redelivered",
			col->conf->deadletter_file, strerror(errno ? errno : EIO));
	if (start >= 0 && ftruncate(col->deadletter, start) != 0)
		sw_log_debug("deadletter", "cannot truncate %s: %s", col->conf->deadletter_file,
			     strerror(errno));
	sw_buf_reset(&col->pending);
	return SW_EIO;
}

/* ---- MQTT callbacks ----------------------------------------------------- */

static int on_message(void *arg, const char *topic, const void *payload, size_t len)
{
	struct collector *col = arg;
	struct sw_event_reject rej;
	enum sw_ingest_result r;

	r = sw_ingest_message(col->ing, topic, payload, len, sw_clock_now(), &rej);
	switch (r) {
	case SW_INGEST_APPLIED:
	case SW_INGEST_DUPLICATE:
		return SW_MQTT_ACK;
	case SW_INGEST_REJECTED:
		sw_log_complain(&col->reject_c[rej.reason], SW_LOG_WARNING, "ingest",
				"rejected message on %s: %s: %s", topic,
				sw_event_reason_name(rej.reason), rej.detail);
		if (deadletter_stage(col, topic, payload, len, &rej) == SW_OK)
			return SW_MQTT_ACK;
		break;
	default:
		break;
	}
	sw_log_complain(&col->store_c, SW_LOG_ERR, "store",
			"cannot store a message on %s: %s; it will be redelivered", topic,
			r == SW_INGEST_REJECTED && col->deadletter >= 0
				? "too many dead letters in one burst"
				: sw_ingest_errmsg(col->ing));
	sw_ingest_abort(col->ing);
	deadletter_drop_pending(col);
	return SW_MQTT_RETRY;
}

static int on_burst_end(void *arg)
{
	struct collector *col = arg;
	struct sw_ingest_stats st;

	if (sw_ingest_commit(col->ing) != SW_OK) {
		sw_log_complain(&col->store_c, SW_LOG_ERR, "store",
				"cannot commit received events: %s; they will be redelivered",
				sw_ingest_errmsg(col->ing));
		deadletter_drop_pending(col);
		return SW_MQTT_RETRY;
	}
	sw_log_release(&col->store_c, SW_LOG_NOTICE, "store", "storing events again");
	if (deadletter_flush(col) != SW_OK) {
		col->dl_queued = false;
		return SW_MQTT_RETRY; /* the burst comes again; so do its dead letters */
	}
	if (col->dl_queued)
		sw_dlq_kick(col->dlq);
	col->dl_queued = false;
	sw_ingest_stats(col->ing, &st);
	if (col->poll && st.applied != col->applied_seen) /* new parcels may have shipped */
		sw_poll_seed_now(col->poll);
	col->applied_seen = st.applied;
	return SW_MQTT_ACK;
}

static void refresh_backlog(struct collector *col)
{
	if (sw_ingest_refresh_backlog(col->ing) != SW_OK)
		sw_log_complain(&col->backlog_c, SW_LOG_WARNING, "store",
				"cannot compute backlogs: %s", sw_ingest_errmsg(col->ing));
	else
		sw_log_release(&col->backlog_c, SW_LOG_NOTICE, "store", "backlogs computed again");
}

/* The dead-letter queue's counters and backlog, with the ingest counts. */
static void log_deadletters(struct collector *col)
{
	struct sw_dlq_stats st;
	int64_t backlog = -1;

	sw_dlq_get_stats(col->dlq, &st);
	if (sw_dlq_backlog(col->dlq, &backlog) != SW_OK)
		backlog = -1;
	if (st.published == 0 && backlog <= 0)
		return;
	sw_log_info("deadletter", "%llu published, %llu acknowledged, %llu refused, %lld queued",
		    (unsigned long long)st.published, (unsigned long long)st.acked,
		    (unsigned long long)st.refused, (long long)backlog);
}

static int64_t backlog_timer_cb(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct collector *col = arg;
	struct sw_ingest_stats st;

	refresh_backlog(col);
	sw_ingest_stats(col->ing, &st);
	sw_log_info("ingest", "%llu applied, %llu duplicates, %llu rejected, %llu commits",
		    (unsigned long long)st.applied, (unsigned long long)st.duplicates,
		    (unsigned long long)st.rejected, (unsigned long long)st.commits);
	log_deadletters(col);
	return col->conf->backlog_interval;
}

/* ---- time series ---------------------------------------------------------- */

/* Before each write: the backlog gauges of the step that ended. */
static void before_flush(void *arg)
{
	refresh_backlog(arg);
}

static void collector_flush(struct sw_daemon *d)
{
	sw_daemon_series_flush(&collector.series, true);
}

/* ---- life cycle --------------------------------------------------------- */

static void on_state(void *arg, bool connected)
{
	struct collector *col = arg;

	if (connected)
		sw_dlq_kick(col->dlq); /* queued copies go out */
}

static void on_published(void *arg, int mid, bool ok)
{
	struct collector *col = arg;

	sw_dlq_published(col->dlq, mid, ok);
}

static const struct sw_mqtt_callbacks mqtt_callbacks = {
	.on_message = on_message,
	.on_burst_end = on_burst_end,
	.on_state = on_state,
	.on_published = on_published,
};

static enum sw_err open_deadletter(struct collector *col, const struct sw_collector_conf *c,
				   int *ret, char *errbuf, size_t errlen)
{
	*ret = -1;
	if (c->deadletter_file == NULL)
		return SW_OK;
	*ret = open(c->deadletter_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (*ret < 0) {
		snprintf(errbuf, errlen, "%s: cannot open the dead-letter file: %s",
			 c->deadletter_file, strerror(errno));
		return SW_EIO;
	}
	return SW_OK;
}

static enum sw_err collector_start(struct sw_daemon *d, char *errbuf, size_t errlen)
{
	struct collector *col = &collector;
	struct sw_ingest_opts opts;
	enum sw_err rc;

	col->d = d;
	col->conf = d->state;
	col->metrics = sw_metrics_new();
	rc = open_deadletter(col, col->conf, &col->deadletter, errbuf, errlen);
	if (rc)
		return rc;
	opts = (struct sw_ingest_opts){ .max_payload = (size_t)col->conf->mqtt.max_payload,
					.topic_level = (int)col->conf->topic_level,
					.metrics = col->metrics };
	sw_buf_init(&col->pending, DEADLETTER_BURST_MAX);
	rc = sw_ingest_new(d->store, &opts, &col->ing);
	if (rc) {
		snprintf(errbuf, errlen, "cannot set up ingest: %s", sw_strerror(rc));
		return rc;
	}
	rc = sw_dlq_new(d->loop, d->store, &col->dlq);
	if (rc) {
		snprintf(errbuf, errlen, "cannot read the dead-letter queue: %s",
			 sw_store_errmsg(d->store));
		return rc;
	}
	rc = sw_mqtt_new(d->loop, &col->conf->mqtt, &mqtt_callbacks, col, &col->mqtt, errbuf,
			 errlen);
	if (rc)
		return rc;
	sw_dlq_set_mqtt(col->dlq, col->mqtt);
	rc = sw_mqtt_start(col->mqtt);
	if (rc)
		return rc;
	rc = sw_daemon_series_start(d, &col->series, &col->conf->rrd, col->metrics, before_flush,
				    col, errbuf, errlen);
	if (rc)
		return rc;
	sw_loop_timer_add(d->loop, 0, backlog_timer_cb, col, &col->backlog_timer);
	if (col->conf->poll->n == 0) {
		sw_log_notice(NULL, "no [courier NAME] section: couriers are not polled");
		return SW_OK;
	}
	rc = sw_poll_new(d->loop, d->store, col->metrics, col->conf->poll, &col->poll, errbuf,
			 errlen);
	if (rc == SW_OK)
		rc = sw_poll_start(col->poll);
	if (rc == SW_OK && col->conf->push->n > 0)
		rc = sw_push_start(d->loop, col->poll, col->conf->push, &col->push, errbuf, errlen);
	return rc;
}

/* On reload: the listener again with the new [push] sections (the old one
 * is closed first, as both may want one port).  Refused settings leave
 * no listener, said loudly: pushes are retried by their senders, and
 * polling goes on. */
static void push_reload(struct collector *col, const struct sw_push_conf *pc)
{
	char err[512];

	sw_push_stop(col->push);
	col->push = NULL;
	if (col->poll == NULL || pc->n == 0)
		return;
	if (sw_push_start(col->d->loop, col->poll, pc, &col->push, err, sizeof(err)) != SW_OK)
		sw_log_err("push", "reload: %s; webhooks are not taken until the next reload",
			   err);
}

static enum sw_err collector_reload(struct sw_daemon *d, void *new_state, char *errbuf,
				    size_t errlen)
{
	struct collector *col = &collector;
	struct sw_collector_conf *c = new_state;
	struct sw_mqtt *mqtt;
	int dl;
	enum sw_err rc;

	if (c->topic_level != col->conf->topic_level || c->mqtt.max_payload != col->conf->mqtt.max_payload)
		sw_log_warn(NULL, "reload: warehouse_topic_level and max_payload apply after a restart");
	if (strcmp(c->rrd.dir, col->conf->rrd.dir) != 0 || c->rrd.step_ms != col->conf->rrd.step_ms ||
	    strcmp(c->rrd.rrdcached ? c->rrd.rrdcached : "",
		   col->conf->rrd.rrdcached ? col->conf->rrd.rrdcached : "") != 0) {
		/* The running writer keeps using the old settings (col->rrd
		 * copied them); keep the old values in the new state so the
		 * step timer agrees with the writer. */
		sw_log_warn(NULL, "reload: [rrd] changes apply after a restart");
		free(c->rrd.dir);
		free(c->rrd.rrdcached);
		c->rrd.dir = xstrdup(col->conf->rrd.dir);
		c->rrd.rrdcached = col->conf->rrd.rrdcached ? xstrdup(col->conf->rrd.rrdcached) : NULL;
		c->rrd.step_ms = col->conf->rrd.step_ms;
	}
	rc = open_deadletter(col, c, &dl, errbuf, errlen);
	if (rc)
		return rc;
	rc = sw_mqtt_new(d->loop, &c->mqtt, &mqtt_callbacks, col, &mqtt, errbuf, errlen);
	if (rc) {
		if (dl >= 0)
			close(dl);
		return rc;
	}
	if (col->deadletter >= 0)
		close(col->deadletter);
	col->deadletter = dl;
	/* The running poll engine keeps its courier settings: hand them to
	 * the new state, so that they live as long as the engine. */
	if (c->poll->n != col->conf->poll->n)
		sw_log_warn(NULL, "reload: [courier NAME] changes apply after a restart");
	sw_poll_conf_free(c->poll);
	c->poll = col->conf->poll;
	col->conf->poll = NULL;
	/* Between bursts no batch is open: reconnecting with the new [mqtt]
	 * settings loses nothing (the session is persistent). */
	sw_mqtt_free(col->mqtt);
	col->mqtt = mqtt;
	sw_dlq_set_mqtt(col->dlq, mqtt); /* the old handle's window is gone */
	col->conf = c;
	/* From here on the new state is in use (it holds the engine's
	 * settings): the reload must not be refused. */
	if (sw_mqtt_start(col->mqtt) != SW_OK)
		sw_log_err("mqtt", "reload: cannot start the new connection");
	push_reload(col, c->push);
	return SW_OK;
}

static void collector_stop(struct sw_daemon *d)
{
	struct collector *col = &collector;

	if (col->backlog_timer)
		sw_loop_timer_del(d->loop, col->backlog_timer);
	col->backlog_timer = 0;
	sw_mqtt_free(col->mqtt); /* flushes acknowledgements of committed bursts */
	col->mqtt = NULL;
	if (col->dlq) {
		sw_dlq_set_mqtt(col->dlq, NULL); /* deletes what the broker acknowledged */
		sw_dlq_free(col->dlq);
		col->dlq = NULL;
	}
	sw_push_stop(col->push); /* before the engine it hands updates to */
	col->push = NULL;
	if (col->poll) {
		sw_poll_stop(col->poll); /* transfers aborted; schedules kept */
		sw_poll_free(col->poll);
		col->poll = NULL;
	}
	sw_daemon_series_stop(d, &col->series); /* what this step has so far */
	if (col->ing) { /* the last counts, for whoever shares the stream */
		struct sw_ingest_stats st;

		sw_ingest_stats(col->ing, &st);
		sw_log_info("ingest", "at stop: %llu applied, %llu duplicates, %llu rejected",
			    (unsigned long long)st.applied, (unsigned long long)st.duplicates,
			    (unsigned long long)st.rejected);
	}
	sw_ingest_free(col->ing);
	col->ing = NULL;
	sw_buf_free(&col->pending);
	col->dl_queued = false;
	if (col->deadletter >= 0)
		close(col->deadletter);
	col->deadletter = -1;
	sw_metrics_free(col->metrics);
	col->metrics = NULL;
}

static const struct sw_daemon_desc collector_desc = {
	.name = "collector",
	.summary = "Ingest warehouse events and courier tracking into the slipwatch store.",
	.part = &sw_collector_part,
	.registry = sw_registry,
	.start = collector_start,
	.reload = collector_reload,
	.stop = collector_stop,
	.flush = collector_flush,
};

int main(int argc, char **argv)
{
	int status;

	if (sw_mqtt_lib_init() != SW_OK) {
		fprintf(stderr, "slipwatch-collector: cannot initialise libmosquitto\n");
		return 1;
	}
	status = sw_daemon_main(argc, argv, &collector_desc);
	sw_mqtt_lib_fini();
	return status;
}
