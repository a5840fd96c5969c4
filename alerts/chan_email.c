/*
 * chan_email.c - the email row of the channel table: customer email over
 * SMTP through the mailer (alerts/mail.h), which is used unchanged.
 *
 * Config is [smtp] with the mailer's own option table; check adds what
 * sending needs (from).  The Message-ID is built from the outbox row (id,
 * created_at), so a resend after a lost acknowledgement carries the id of
 * the first copy and mail clients fold the two.  A notice without an html
 * part gets one made from its text (escaped, line breaks kept), because
 * the mailer sends multipart/alternative and needs both.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/channel.h"
#include "alerts/mail.h"
#include "lib/xmalloc.h"

#define HTML_HEAD "<!DOCTYPE html>\n<html><body><div style=\"white-space: pre-wrap\">"
#define HTML_TAIL "</div></body></html>\n"

/* [smtp] only (kind and name are always that): email receivers have no
 * section of their own, they send through this one. */
static enum sw_err email_check(const void *conf, const struct sw_conf *file, const char *kind,
			       const char *name, char *err, size_t len)
{
	const struct sw_mail_conf *c = conf;
	enum sw_err rc;

	(void)kind;
	(void)name;

	rc = sw_mail_conf_check(c, err, len);
	if (rc == SW_OK && (!c->from || !*c->from)) {
		snprintf(err, len, "[smtp] from: required to send email but not set");
		rc = SW_ECONF;
	}
	if (rc == SW_OK && file && !sw_conf_text_only(file))
		rc = sw_mail_conf_check_files(c, err, len);
	if (rc != SW_OK)
		sw_conf_locate(file, err, len);
	return rc ? SW_ECONF : SW_OK;
}

static enum sw_err email_open(const void *conf, void **ret_state, char *err, size_t len)
{
	struct sw_mail *m = NULL;
	enum sw_err rc;

	rc = sw_mail_new(conf, &m, err, len);
	*ret_state = m;
	return rc;
}

static void email_close(void *state)
{
	sw_mail_free(state);
}

/* text as the body of a minimal HTML document (new string). */
static char *html_from_text(const char *text)
{
	size_t n = strlen(text), o, i;
	char *out = xmalloc(sizeof HTML_HEAD + 6 * n + sizeof HTML_TAIL);
	const char *rep;

	memcpy(out, HTML_HEAD, sizeof HTML_HEAD - 1);
	o = sizeof HTML_HEAD - 1;
	for (i = 0; i < n; i++) {
		switch (text[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default: rep = NULL;
		}
		if (rep) {
			memcpy(out + o, rep, strlen(rep));
			o += strlen(rep);
		} else {
			out[o++] = text[i];
		}
	}
	memcpy(out + o, HTML_TAIL, sizeof HTML_TAIL); /* with its NUL */
	return out;
}

static enum sw_chan_result email_send(void *state, const struct sw_notice *n,
				      int64_t *ret_retry_after_s, char *detail, size_t len)
{
	struct sw_mail *m = state;
	struct sw_mail_msg mm = {0};
	char mid[SW_MAIL_MSGID_LEN], *html = NULL;
	enum sw_mail_result r;

	(void)ret_retry_after_s; /* SMTP gives no retry hint */
	if (sw_mail_message_id(n->id, n->created_at, sw_mail_from_domain(m), mid, sizeof mid)) {
		snprintf(detail, len, "bad notice: no usable Message-ID (bad id or From domain)");
		return SW_CHAN_FAILED;
	}
	if (!n->html)
		html = html_from_text(n->text);
	mm.to_addr = n->recipient;
	mm.to_name = n->recipient_name;
	mm.subject = n->subject;
	mm.text = n->text;
	mm.html = n->html ? n->html : html;
	mm.date = n->date;
	mm.message_id = mid;
	mm.list_unsubscribe = n->unsubscribe_link;
	mm.list_unsubscribe_post = n->one_click;
	r = sw_mail_send(m, &mm, detail, len);
	free(html);
	if (r == SW_MAIL_SENT)
		return SW_CHAN_SENT;
	return r == SW_MAIL_TEMPFAIL ? SW_CHAN_TEMPFAIL : SW_CHAN_FAILED;
}

static bool email_server_fault(void *state)
{
	return sw_mail_server_fault(state);
}

static void email_conf_free(void *conf)
{
	sw_mail_conf_free(conf);
}

const struct sw_channel_ops sw_chan_email = {
    .name = "email",
    .section = "smtp",
    .opts = sw_mail_conf_table,
    .conf_size = sizeof(struct sw_mail_conf),
    .pages_only = false,
    .check = email_check,
    .open = email_open,
    .close = email_close,
    .send = email_send,
    .server_fault = email_server_fault,
    .conf_free = email_conf_free,
};
