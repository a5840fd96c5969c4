/*
 * dash_site.c - generations of the site and the swap (see dash_site.h).
 *
 * Design: everything lives in OUT's parent directory and is named after
 * OUT's base name, so the cleanup can only ever touch "BASE.gen-*" and
 * "BASE.new-*" entries there, and removes trees with nftw(FTW_PHYS)
 * (links are removed, never followed).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dashboards/dash_site.h"
#include "lib/xmalloc.h"

struct sw_dash_site {
	char *out;    /* as given */
	char *parent; /* OUT's directory */
	char *base;   /* OUT's last component */
	int lock_fd;
	char *gen; /* the generation begun (full path), or NULL */
};

/* mkdir -p of path (0755). */
static int make_dirs(const char *path)
{
	char *p = xstrdup(path);
	int r = 0;

	for (char *s = p + 1; r == 0 && *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			r = -1;
		*s = '/';
	}
	if (r == 0 && mkdir(p, 0755) < 0 && errno != EEXIST)
		r = -1;
	free(p);
	return r;
}

static void split(struct sw_dash_site *s, const char *out)
{
	char *copy = xstrdup(out), *slash;
	size_t n = strlen(copy);

	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	slash = strrchr(copy, '/');
	if (slash == NULL) {
		s->parent = xstrdup(".");
		s->base = xstrdup(copy);
	} else {
		s->parent = slash == copy ? xstrdup("/") : xstrndup(copy, (size_t)(slash - copy));
		s->base = xstrdup(slash + 1);
	}
	free(copy);
}

enum sw_err sw_dash_site_open(const char *out, struct sw_dash_site **ret, char *err, size_t errlen)
{
	struct sw_dash_site *s = xcalloc(1, sizeof(*s));
	struct stat st;
	char *lock;

	*ret = NULL;
	s->out = xstrdup(out);
	s->lock_fd = -1;
	for (size_t n = strlen(s->out); n > 1 && s->out[n - 1] == '/';)
		s->out[--n] = '\0'; /* "site/" names the link "site" */
	out = s->out;
	split(s, out);
	if (!s->base[0] || strcmp(s->base, ".") == 0 || strcmp(s->base, "..") == 0 ||
	    strcmp(s->base, "/") == 0) {
		snprintf(err, errlen, "%s: not a name for the site's link", out);
		goto fail;
	}
	if (make_dirs(s->parent) < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", s->parent, strerror(errno));
		goto fail;
	}
	if (lstat(out, &st) == 0 && !S_ISLNK(st.st_mode)) {
		snprintf(err, errlen,
			 "%s: exists and is not a symbolic link; slipwatch-dash keeps "
			 "it as a link to the current site (move it away)",
			 out);
		goto fail;
	}
	lock = xasprintf("%s/%s.lock", s->parent, s->base);
	s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		bool busy = s->lock_fd >= 0 && errno == EWOULDBLOCK;

		snprintf(err, errlen, "%s: %s%s", lock,
			 busy ? "another slipwatch-dash writes " : "",
			 busy ? out : strerror(errno));
		free(lock);
		sw_dash_site_close(s);
		return busy ? SW_EDUP : SW_EIO;
	}
	free(lock);
	*ret = s;
	return SW_OK;
fail:
	sw_dash_site_close(s);
	return SW_EIO;
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* rm -r path, links removed, never followed. */
static int remove_tree(const char *path)
{
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void sw_dash_site_abort(struct sw_dash_site *s)
{
	if (s && s->gen) {
		remove_tree(s->gen);
		free(s->gen);
		s->gen = NULL;
	}
}

void sw_dash_site_close(struct sw_dash_site *s)
{
	if (s == NULL)
		return;
	sw_dash_site_abort(s);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->out);
	free(s->parent);
	free(s->base);
	free(s);
}

enum sw_err sw_dash_site_begin(struct sw_dash_site *s, const char **ret_dir, char *err,
			       size_t errlen)
{
	char *tmpl = xasprintf("%s/%s.gen-XXXXXX", s->parent, s->base);

	sw_dash_site_abort(s);
	if (mkdtemp(tmpl) == NULL || chmod(tmpl, 0755) < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", tmpl, strerror(errno));
		free(tmpl);
		return SW_EIO;
	}
	s->gen = tmpl;
	*ret_dir = tmpl;
	return SW_OK;
}

/* The generation OUT names now (its base name, new string), or NULL. */
static char *current(const struct sw_dash_site *s)
{
	char buf[4096];
	ssize_t n = readlink(s->out, buf, sizeof(buf) - 1);
	const char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	return xstrdup(slash ? slash + 1 : buf);
}

/* Removes BASE.gen-* but keep and keep2, and BASE.new-* left by crashes. */
static const char *clean(const struct sw_dash_site *s, const char *keep, const char *keep2)
{
	char *gen = xasprintf("%s.gen-", s->base), *lnk = xasprintf("%s.new-", s->base);
	const char *warn = NULL;
	struct dirent *de;
	DIR *d = opendir(s->parent);

	while (d && (de = readdir(d)) != NULL) {
		bool is_gen = strncmp(de->d_name, gen, strlen(gen)) == 0;
		char *path;

		if ((!is_gen && strncmp(de->d_name, lnk, strlen(lnk)) != 0) ||
		    strcmp(de->d_name, keep) == 0 || (keep2 && strcmp(de->d_name, keep2) == 0))
			continue;
		path = xasprintf("%s/%s", s->parent, de->d_name);
		if ((is_gen ? remove_tree(path) : unlink(path)) != 0)
			warn = "could not remove an old generation of the site";
		free(path);
	}
	if (d == NULL)
		warn = "could not list the site's directory to remove old generations";
	else
		closedir(d);
	free(gen);
	free(lnk);
	return warn;
}

enum sw_err sw_dash_site_commit(struct sw_dash_site *s, const char **ret_warn, char *err,
				size_t errlen)
{
	const char *slash = strrchr(s->gen, '/');
	char *target = xstrdup(slash ? slash + 1 : s->gen);
	char *lnk = xasprintf("%s/%s.new-%ld", s->parent, s->base, (long)getpid());
	char *before = current(s);

	*ret_warn = NULL;
	unlink(lnk);
	if (symlink(target, lnk) < 0 || rename(lnk, s->out) < 0) {
		snprintf(err, errlen, "%s: cannot swap in the new site: %s", s->out,
			 strerror(errno));
		unlink(lnk);
		sw_dash_site_abort(s);
		free(before);
		free(lnk);
		free(target);
		return SW_EIO;
	}
	free(s->gen);
	s->gen = NULL;
	*ret_warn = clean(s, target, before);
	free(before);
	free(lnk);
	free(target);
	return SW_OK;
}
