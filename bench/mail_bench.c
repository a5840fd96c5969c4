/*
 * mail_bench.c - the program behind bench/email-send.sh: sends N customer
 * emails to an SMTP server on 127.0.0.1:PORT one way and says how long it
 * took.
 *
 * usage: mail_bench PORT N bare|reuse|fresh
 *
 *   bare   the baseline: a bare libcurl loop, one easy handle reused (so
 *          one connection), sending one fixed pre-built message (the bytes
 *          sw_mail's dry run writes for the same message) with
 *          CURLOPT_UPLOAD and a read callback: no MIME, no header building,
 *          no dialogue trace
 *   reuse  sw_mail_send() N times on one struct sw_mail (connection kept)
 *   fresh  sw_mail_new() + sw_mail_send() + sw_mail_free() per message: a
 *          new connection (TCP, greeting, EHLO, QUIT) for every message
 *
 * Every message must be accepted (250), else exit 1.  Timed with
 * CLOCK_MONOTONIC around the sends only; CPU is this process's user +
 * system time over the same span (getrusage).
 *
 * Prints one line: "mode M messages N seconds S cpu_seconds C
 * connections K".
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <curl/curl.h>

#include "alerts/mail.h"
#include "bench/bench.h"
#include "lib/xmalloc.h"

#define RCPT "customer@bench.example"

/* A realistic delay email: about 700 bytes of text, 1.6 KB of HTML. */
static const char text_part[] =
    "Hello Asha,\n\n"
    "We are sorry: your order 1001-2026-77 will reach you later than we promised.\n"
    "The courier reports that parcel 1 of 2 (tracking number 1Z999AA10123456784) has\n"
    "been held at the Bhiwandi hub since Tuesday. The new estimated delivery date is\n"
    "Friday, 27 November 2026.\n\n"
    "You do not need to do anything. We are watching the parcel and will write again\n"
    "if anything changes. Track it any time: https://shop.example/track/1001-2026-77\n\n"
    "If you would rather cancel, reply to this email and we will refund you in full.\n\n"
    "Thank you for your patience,\n"
    "The Shop team\n\n"
    "--\n"
    "You receive this email because you placed order 1001-2026-77.\n"
    "Stop delay emails: https://shop.example/unsubscribe?t=Zm9vYmFyYmF6cXV4\n";

static const char html_part[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<title>Your order is running late</title></head>\n"
    "<body style=\"font-family: Arial, sans-serif; color: #222; max-width: 600px\">\n"
    "<p>Hello Asha,</p>\n"
    "<p>We are sorry: your order <strong>1001-2026-77</strong> will reach you later "
    "than we promised.</p>\n"
    "<p>The courier reports that parcel 1 of 2 (tracking number "
    "<a href=\"https://shop.example/track/1001-2026-77\">1Z999AA10123456784</a>) has "
    "been held at the Bhiwandi hub since Tuesday. The new estimated delivery date is "
    "<strong>Friday, 27 November 2026</strong>.</p>\n"
    "<p>You do not need to do anything. We are watching the parcel and will write "
    "again if anything changes.</p>\n"
    "<p style=\"margin: 24px 0\"><a href=\"https://shop.example/track/1001-2026-77\" "
    "style=\"background: #0a7; color: #fff; padding: 10px 18px; text-decoration: none; "
    "border-radius: 4px\">Track your parcel</a></p>\n"
    "<p>If you would rather cancel, reply to this email and we will refund you in "
    "full.</p>\n"
    "<p>Thank you for your patience,<br>The Shop team</p>\n"
    "<hr style=\"border: none; border-top: 1px solid #ddd\">\n"
    "<p style=\"font-size: 12px; color: #777\">You receive this email because you "
    "placed order 1001-2026-77. <a href=\"https://shop.example/unsubscribe?t="
    "Zm9vYmFyYmF6cXV4\">Stop delay emails</a>.</p>\n"
    "</body></html>\n";

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static struct sw_mail *new_mailer(long port, const char *dry_dir)
{
	struct sw_mail_conf c = {0};
	struct sw_mail *m = NULL;
	char url[64], err[512];

	snprintf(url, sizeof url, "smtp://127.0.0.1:%ld", port);
	c.url = url;
	c.tls = SW_MAIL_TLS_AUTO; /* loopback: plain SMTP */
	c.tls_verify = true;
	c.from = (char *)"Shop <orders@shop.example>";
	c.reply_to = (char *)"Support <help@shop.example>";
	c.connect_timeout = 10000;
	c.timeout = 60000;
	c.dry_run_dir = (char *)dry_dir;
	if (sw_mail_new(&c, &m, err, sizeof err)) {
		fprintf(stderr, "mail_bench: %s\n", err);
		exit(1);
	}
	return m;
}

/* Sends message number i with a Message-ID of its own (written to id,
 * SW_MAIL_MSGID_LEN bytes) or exits. */
static void send_one(struct sw_mail *m, long i, char *id)
{
	char detail[SW_MAIL_DETAIL_LEN];
	struct sw_mail_msg msg = {
	    .to_addr = RCPT,
	    .to_name = "Asha Verma",
	    .subject = "Your order 1001-2026-77 is running late",
	    .text = text_part,
	    .html = html_part,
	    .date = 1795000000,
	    .message_id = id,
	    .list_unsubscribe = "https://shop.example/unsubscribe?t=Zm9vYmFyYmF6cXV4",
	    .list_unsubscribe_post = true,
	};

	sw_mail_message_id(i, 1795000000, sw_mail_from_domain(m), id, SW_MAIL_MSGID_LEN);
	if (sw_mail_send(m, &msg, detail, sizeof detail) != SW_MAIL_SENT) {
		fprintf(stderr, "mail_bench: message %ld: %s\n", i, detail);
		exit(1);
	}
}

/* The bytes sw_mail's dry run writes for message 0 (new string). */
static char *prebuilt_message(size_t *ret_len)
{
	char dir[] = "/tmp/sw-mail-bench.XXXXXX", path[128], id[SW_MAIL_MSGID_LEN];
	struct sw_mail *m;
	char *buf;
	FILE *f;
	long n;

	if (!mkdtemp(dir)) {
		perror("mail_bench: mkdtemp");
		exit(1);
	}
	m = new_mailer(1, dir);
	send_one(m, 0, id);
	sw_mail_free(m);
	snprintf(path, sizeof path, "%s/%.*s.eml", dir, (int)(strcspn(id, "@") - 1), id + 1);
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0) {
		fprintf(stderr, "mail_bench: cannot read %s\n", path);
		exit(1);
	}
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	*ret_len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	unlink(path);
	rmdir(dir);
	return buf;
}

struct upload {
	const char *data;
	size_t len, off;
};

static size_t read_cb(char *out, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb < u->len - u->off ? size * nmemb : u->len - u->off;

	memcpy(out, u->data + u->off, n);
	u->off += n;
	return n;
}

/* The baseline loop; returns the connections opened. */
static long run_bare(long port, long n, const char *msg, size_t len)
{
	struct curl_slist *rcpt = curl_slist_append(NULL, "<" RCPT ">");
	struct upload u = {.data = msg, .len = len};
	CURL *c = curl_easy_init();
	long i, conns = 0, k;
	char url[64];
	CURLcode rc;

	snprintf(url, sizeof url, "smtp://127.0.0.1:%ld", port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, "<orders@shop.example>");
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	for (i = 0; i < n; i++) {
		u.off = 0;
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
		rc = curl_easy_perform(c);
		if (rc != CURLE_OK) {
			fprintf(stderr, "mail_bench: bare message %ld: %s\n", i,
				curl_easy_strerror(rc));
			exit(1);
		}
		if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &k) == CURLE_OK)
			conns += k;
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(rcpt);
	return conns;
}

int main(int argc, char **argv)
{
	char id[SW_MAIL_MSGID_LEN];
	double t0, c0, t1, c1;
	struct sw_mail_stats st = {0};
	struct sw_mail *m;
	long port, n, i, conns = 0;
	size_t len;
	char *msg;

	if (argc != 4 ||
	    (strcmp(argv[3], "bare") && strcmp(argv[3], "reuse") && strcmp(argv[3], "fresh"))) {
		fprintf(stderr, "usage: mail_bench PORT N bare|reuse|fresh\n");
		return 2;
	}
	port = arg_long("mail_bench", argv[1], "PORT", 65535);
	n = arg_long("mail_bench", argv[2], "N", 10000000);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	msg = prebuilt_message(&len);
	t0 = now_mono();
	c0 = cpu_seconds();
	if (strcmp(argv[3], "bare") == 0) {
		conns = run_bare(port, n, msg, len);
	} else if (strcmp(argv[3], "reuse") == 0) {
		m = new_mailer(port, NULL);
		for (i = 0; i < n; i++)
			send_one(m, i + 1, id);
		sw_mail_get_stats(m, &st);
		sw_mail_free(m);
		conns = (long)st.connections;
	} else {
		for (i = 0; i < n; i++) {
			m = new_mailer(port, NULL);
			send_one(m, i + 1, id);
			sw_mail_get_stats(m, &st);
			conns += (long)st.connections;
			sw_mail_free(m);
		}
	}
	t1 = now_mono();
	c1 = cpu_seconds();
	printf("mode %s messages %ld seconds %.4f cpu_seconds %.4f connections %ld bytes %zu\n",
	       argv[3], n, t1 - t0, c1 - c0, conns, len);
	free(msg);
	curl_global_cleanup();
	return 0;
}
