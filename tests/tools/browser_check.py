#!/usr/bin/env python3
"""browser_check - load pages in a real headless Chromium and say whether
each one rendered cleanly; keep a screenshot of each as a test artefact.

For the dashboard tests (issue 14): the generated site must show every
graph and run without a console error in the browser ops staff use.

USAGE
  browser_check.py [--timeout S] [--json] ARTEFACT-DIR PAGE...
  browser_check.py --probe

  PAGE is a file path, a file:// URL, or an http:// URL on 127.0.0.1,
  localhost or [::1].  ARTEFACT-DIR (created) receives, per page NN (its
  position, from 01) and SLUG (its file name without extension):
    NN-SLUG.png   a full-page screenshot (PNG, 1280 px wide, at most
                  16384 px high)
    NN-SLUG.txt   the page's rendered text (document.body.innerText): a
                  caller checks that HTML-looking data shows as text
    report.json   what --json prints
    chromedriver.log
  --timeout S  bound on each page's load and image decoding (default 60;
               a failure bound on a loaded machine, never an expectation)
  --json       print the report as JSON instead of text
  --probe      only say whether Chromium, chromedriver and Selenium are
               installed (exit 0 and their versions, or 77 and why not)

A PAGE IS CLEAN WHEN, after its load event (document.readyState complete;
a <meta> refresh then scheduled is cancelled, so a self-refreshing page
stays put while it is checked):
  - every <img> is complete, decodes and has naturalWidth > 0 (lazy
    images are switched to eager and waited for first);
  - every <object>/<embed> showing a document (SVG) has one;
  - no request failed: a file:// resource that is missing, an HTTP answer
    >= 400, or any request off loopback (all are refused: see NETWORK);
    the browser's own look for /favicon.ico, made when a page links no
    icon, does not count;
  - nothing was logged at level error: console.error, an uncaught
    exception or rejected promise, a CSP or other browser error;
  - no alert(), confirm(), prompt() or print() was called: they are
    replaced before any page script runs by a stub that logs an error, so
    markup injected through data (<script>alert(1)</script>, <img
    onerror=alert(1)>) that runs is caught even when it does nothing else.

ENVIRONMENT
  SW_CHROMIUM, SW_CHROMEDRIVER  the programs to use (default: Debian's
  /usr/lib/chromium/chromium, the binary behind the /usr/bin/chromium
  wrapper, and chromedriver in PATH)

EXIT STATUS
  0 every page clean; 1 some page not clean (the report says what, per
  page); 2 usage error; 77 Chromium, chromedriver or Selenium not installed
  (automake's SKIP; autotools/deps installs Debian's chromium,
  chromium-driver and python3-selenium); 99 the browser could not be
  started or driven (an error, never a skip).

DESIGN
  Selenium (Debian's python3-selenium) drives Chromium through Debian's
  chromedriver, built from the same source as the browser, so versions
  always match and nothing is downloaded.  Console messages come from
  chromedriver's browser log; failed requests from its performance log
  (the DevTools Network events: Network.loadingFailed, which also covers
  <object>/<embed> documents that the browser log leaves out).  One
  browser serves all pages; each page starts from drained logs.

  NETWORK: every request off loopback goes to a proxy at 127.0.0.1:9
  where nothing listens (loopback bypasses proxies), background services
  (updates, sync, metrics, safe browsing) are off, and the profile is a
  fresh temp dir (HOME too) removed at exit.  --no-sandbox only as root
  (Chromium refuses to start as root with its sandbox).
"""

import argparse
import base64
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse

EXIT_CLEAN, EXIT_DIRTY, EXIT_USAGE, EXIT_SKIP, EXIT_ERROR = 0, 1, 2, 77, 99
MAX_SHOT_HEIGHT = 16384
WINDOW = (1280, 900)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DIALOG_TAG = "browser_check: dialog"

# Run before any page script, in every frame: dialogs become logged errors.
DIALOG_STUB = """
(() => {
  for (const name of ["alert", "confirm", "prompt", "print"]) {
    window[name] = function (msg) {
      console.error("%s " + name + "() called: " + String(msg));
      return name === "confirm" ? false : null;
    };
  }
})();
""" % DIALOG_TAG

# Switch lazy images to eager, then wait until every image has loaded or
# failed (decode() settles either way); answers one object per image.
IMAGES_JS = """
const done = arguments[arguments.length - 1];
const imgs = Array.from(document.images);
for (const i of imgs) if (i.loading === "lazy") i.loading = "eager";
Promise.allSettled(imgs.map(i => i.decode())).then(r => done(imgs.map((i, n) => ({
  src: i.currentSrc || i.getAttribute("src") || "",
  complete: i.complete, width: i.naturalWidth,
  decoded: r[n].status === "fulfilled"}))));
"""

# <object>/<embed>: loaded when it holds a document (SVG, HTML).  File pages
# can see into same-directory documents thanks to
# --allow-file-access-from-files; http ones are same-origin.
OBJECTS_JS = """
return Array.from(document.querySelectorAll("object, embed")).map(o => {
  let doc = null;
  try { doc = o.contentDocument || (o.getSVGDocument && o.getSVGDocument()); }
  catch (e) { doc = null; }
  const root = doc && doc.documentElement;
  return {tag: o.localName, src: o.getAttribute("data") || o.getAttribute("src") || "",
          type: o.getAttribute("type") || "",
          root: root ? root.localName : null};
});
"""


class Skip(Exception):
    """Chromium, chromedriver or Selenium is not installed."""


class Usage(Exception):
    """A bad command line: the message says which argument and why."""


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="browser_check.py",
        description="Load pages in headless Chromium; report broken images, "
        "console errors, failed requests; keep screenshots.")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="bound on each page's load, in seconds (default 60)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--probe", action="store_true",
                   help="only check that the browser is installed")
    p.add_argument("artefacts", nargs="?", help="directory for screenshots")
    p.add_argument("pages", nargs="*", help="file paths or loopback URLs")
    args = p.parse_args(argv)
    if args.probe:
        return args
    if not args.artefacts or not args.pages:
        raise Usage("need an artefact directory and at least one page")
    if not 1 <= args.timeout <= 3600:
        raise Usage("--timeout %g: want 1 to 3600 seconds" % args.timeout)
    return args


# --- what is installed ---------------------------------------------------

def find_programs():
    """(chromium, chromedriver) paths; SW_CHROMIUM / SW_CHROMEDRIVER
    override.  Debian's /usr/bin/chromium is a shell wrapper adding desktop
    flags: the binary behind it is used when present."""
    chromium = os.environ.get("SW_CHROMIUM")
    if not chromium:
        chromium = "/usr/lib/chromium/chromium"
        if not os.access(chromium, os.X_OK):
            chromium = shutil.which("chromium") or shutil.which("chromium-browser") or ""
    driver = os.environ.get("SW_CHROMEDRIVER") or shutil.which("chromedriver") or \
        "/usr/bin/chromedriver"
    if not chromium or not os.access(chromium, os.X_OK):
        raise Skip("Chromium is not installed (%s): autotools/deps installs "
                   "Debian's chromium" % (chromium or "no chromium in PATH"))
    if not os.access(driver, os.X_OK):
        raise Skip("chromedriver is not installed (%s): autotools/deps installs "
                   "Debian's chromium-driver" % driver)
    return chromium, driver


def import_selenium():
    try:
        from selenium import webdriver  # noqa: F401
        from selenium.common import exceptions  # noqa: F401
    except ImportError as e:
        raise Skip("Selenium is not importable by %s (%s): autotools/deps "
                   "installs Debian's python3-selenium for /usr/bin/python3"
                   % (sys.executable, e)) from None
    import selenium
    return selenium


def version_of(program):
    try:
        out = subprocess.run([program, "--version"], capture_output=True,
                             text=True, timeout=60, check=False).stdout
    except (OSError, subprocess.SubprocessError) as e:
        return "unknown (%s)" % e
    return out.strip().splitlines()[0] if out.strip() else "unknown"


# --- pages ------------------------------------------------------------------

def page_url(arg):
    """The URL to load for a command-line PAGE, or Usage."""
    parts = urllib.parse.urlsplit(arg)
    if parts.scheme in ("http", "https"):
        if parts.hostname not in LOOPBACK_HOSTS:
            raise Usage("page %r: only loopback URLs (127.0.0.1, localhost, [::1])" % arg)
        return arg
    if parts.scheme == "file":
        return arg
    if parts.scheme and len(parts.scheme) > 1:
        raise Usage("page %r: want a file path, file:// or http://127.0.0.1 URL" % arg)
    return pathlib.Path(arg).resolve().as_uri()


def local_path(url):
    """The file a file:// URL names, else None."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "file":
        return None
    return urllib.parse.unquote(parts.path)


def slug_of(url, n):
    name = urllib.parse.unquote(urllib.parse.urlsplit(url).path).rstrip("/")
    name = name.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "index"
    return "%02d-%s" % (n, re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60])


def is_loopback(url):
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("file", "data", "blob", "about", "chrome", "chrome-error",
                        "devtools", "chrome-extension"):
        return True
    return parts.hostname in LOOPBACK_HOSTS


# --- the browser ----------------------------------------------------------

def chromium_flags(profile):
    flags = [
        "--headless=new", "--user-data-dir=" + profile,
        "--window-size=%d,%d" % WINDOW, "--force-device-scale-factor=1",
        "--hide-scrollbars", "--mute-audio", "--no-first-run",
        "--no-default-browser-check", "--disable-gpu",
        # No network beyond loopback and files.
        "--proxy-server=http://127.0.0.1:9", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps",
        "--disable-extensions", "--disable-domain-reliability",
        "--metrics-recording-only", "--disable-breakpad", "--disable-crash-reporter",
        "--safebrowsing-disable-auto-update", "--password-store=basic",
        "--disable-features=Translate,OptimizationHints,MediaRouter,"
        "AutofillServerCommunication,InterestFeedContentSuggestions",
        # A page's <object> SVG next to it is readable (see OBJECTS_JS).
        "--allow-file-access-from-files",
    ]
    if os.geteuid() == 0:
        flags.append("--no-sandbox")
    return flags


def start_browser(chromium, driver_path, profile, artefacts, timeout):
    """A Selenium driver, or raises Exception with the browser's words."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for f in chromium_flags(os.path.join(profile, "profile")):
        opts.add_argument(f)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    opts.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True,
                                                      "enablePage": False})
    env = dict(os.environ, HOME=profile, XDG_CONFIG_HOME=profile + "/config",
               XDG_CACHE_HOME=profile + "/cache")
    service = Service(driver_path, log_path=os.path.join(artefacts, "chromedriver.log"),
                      env=env)
    drv = webdriver.Chrome(service=service, options=opts)
    drv.set_page_load_timeout(timeout)
    drv.set_script_timeout(timeout)
    drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": DIALOG_STUB})
    return drv


def drain_logs(drv):
    drv.get_log("browser")
    drv.get_log("performance")


def classify_console(entries, result):
    """Browser-log entries into console errors, exceptions, dialogs and
    warnings.  Network entries are left to failed_requests (the
    performance log has them all, with the error)."""
    for e in entries:
        msg, src, level = e.get("message", ""), e.get("source", ""), e.get("level", "")
        if level == "WARNING":
            result["warnings"].append(msg)
        if level != "SEVERE" or src == "network":
            continue
        if DIALOG_TAG in msg:
            result["dialogs"].append(msg.split(DIALOG_TAG, 1)[1].strip().rstrip('"'))
        elif src == "javascript":
            result["exceptions"].append(msg)
        else:
            result["console_errors"].append({"source": src, "message": msg})


def browser_own(params):
    """A request the browser makes by itself, not the page: the favicon it
    looks for at the site's root when a page links none."""
    url = params.get("request", {}).get("url", "")
    return (params.get("initiator", {}).get("type") == "other" and
            urllib.parse.urlsplit(url).path == "/favicon.ico")


def classify_network(entries, result):
    """Performance-log Network events into failed or off-loopback requests."""
    urls = {}
    own = set()
    failed = result["failed_requests"]
    for e in entries:
        try:
            m = json.loads(e["message"])["message"]
        except (KeyError, ValueError):
            continue
        method, p = m.get("method"), m.get("params", {})
        if method == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            urls[p.get("requestId")] = url
            if browser_own(p):
                own.add(p.get("requestId"))
            elif not is_loopback(url):
                failed.append({"url": url, "error": "request off loopback (refused)"})
        elif p.get("requestId") in own:
            continue
        elif method == "Network.loadingFailed" and not p.get("canceled"):
            url = urls.get(p.get("requestId"), "?")
            if is_loopback(url):
                failed.append({"url": url, "error": p.get("errorText", "failed"),
                               "type": p.get("type", "")})
        elif method == "Network.responseReceived":
            r = p.get("response", {})
            status = r.get("status", 0)
            if r.get("url", "").startswith("http") and status >= 400:
                failed.append({"url": r.get("url"), "error": "HTTP %d" % status,
                               "type": p.get("type", "")})


def check_media(drv, result):
    imgs = drv.execute_async_script(IMAGES_JS)
    broken = [i for i in imgs
              if not (i["complete"] and i["decoded"] and i["width"] > 0)]
    result["images"] = {"total": len(imgs), "loaded": len(imgs) - len(broken),
                        "broken": [i["src"] for i in broken]}
    objs = drv.execute_script(OBJECTS_JS)
    bad = [o for o in objs if not o["root"]]
    result["objects"] = {"total": len(objs), "loaded": len(objs) - len(bad),
                         "broken": [o["src"] for o in bad]}


def screenshot(drv, path):
    size = drv.execute_cdp_cmd("Page.getLayoutMetrics", {}).get("cssContentSize", {})
    width = max(int(size.get("width", WINDOW[0])), 1)
    height = min(max(int(size.get("height", WINDOW[1])), 1), MAX_SHOT_HEIGHT)
    shot = drv.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def new_result(arg, url):
    return {"page": arg, "url": url, "title": "", "ready_state": "",
            "images": {"total": 0, "loaded": 0, "broken": []},
            "objects": {"total": 0, "loaded": 0, "broken": []},
            "console_errors": [], "exceptions": [], "dialogs": [],
            "failed_requests": [], "warnings": [], "screenshot": None,
            "text": None, "problems": [], "clean": False}


def check_page(drv, arg, url, n, artefacts):
    """Load one page and fill its result; browser errors propagate."""
    from selenium.common.exceptions import TimeoutException

    result = new_result(arg, url)
    path = local_path(url)
    if path is not None and not os.path.isfile(path):
        result["problems"].append("no such file: %s" % path)
        return result
    drain_logs(drv)
    try:
        drv.get(url)
    except TimeoutException:
        result["problems"].append("did not finish loading (load event) within the timeout")
    # Cancel a scheduled <meta http-equiv="refresh"> (the dashboards reload
    # themselves) so the page checked is the page shot.  After the load
    # event only lazy images are still to come, and they start afterwards.
    drv.execute_script("window.stop()")
    result["ready_state"] = drv.execute_script("return document.readyState")
    result["title"] = drv.title
    if result["ready_state"] == "complete":
        try:
            check_media(drv, result)
        except TimeoutException:
            result["problems"].append("images did not settle within the timeout")
    slug = slug_of(url, n)
    result["screenshot"] = os.path.join(artefacts, slug + ".png")
    screenshot(drv, result["screenshot"])
    result["text"] = os.path.join(artefacts, slug + ".txt")
    with open(result["text"], "w", encoding="utf-8") as f:
        f.write(drv.execute_script("return document.body ? document.body.innerText : ''"))
    classify_console(drv.get_log("browser"), result)
    classify_network(drv.get_log("performance"), result)
    judge(result)
    return result


def judge(r):
    """Turn a filled result into its problems and clean flag."""
    p = r["problems"]
    if r["ready_state"] != "complete":
        p.append("document.readyState is %r, not 'complete'" % r["ready_state"])
    for kind in ("images", "objects"):
        for src in r[kind]["broken"]:
            p.append("%s not loaded: %s" % (kind[:-1], src or "(no src)"))
    p.extend("failed request: %s (%s)" % (f["url"], f["error"]) for f in r["failed_requests"])
    p.extend("console error: %s" % c["message"] for c in r["console_errors"])
    p.extend("uncaught exception: %s" % e for e in r["exceptions"])
    p.extend("dialog called: %s" % d for d in r["dialogs"])
    r["clean"] = not p


# --- reports ------------------------------------------------------------

def text_report(results):
    lines = []
    for r in results:
        img, obj = r["images"], r["objects"]
        lines.append("%s: %s (images %d/%d loaded, objects %d/%d, screenshot %s)" % (
            "CLEAN" if r["clean"] else "NOT CLEAN", r["url"], img["loaded"], img["total"],
            obj["loaded"], obj["total"], r["screenshot"] or "none"))
        lines.extend("  - " + p for p in r["problems"])
    bad = sum(not r["clean"] for r in results)
    lines.append("%d of %d pages clean" % (len(results) - bad, len(results)))
    return "\n".join(lines)


def short(e):
    """An exception's message without chromedriver's native stack trace."""
    text = (getattr(e, "msg", None) or str(e)).split("\nStacktrace:")[0]
    return " ".join(text.split()) or type(e).__name__


def run_pages(args, urls, chromium, driver_path):
    os.makedirs(args.artefacts, exist_ok=True)
    artefacts = os.path.abspath(args.artefacts)
    profile = tempfile.mkdtemp(prefix="browser-check.")
    drv = None
    try:
        try:
            drv = start_browser(chromium, driver_path, profile, artefacts, args.timeout)
        except Exception as e:  # selenium raises many kinds; all mean "cannot start"
            raise RuntimeError("cannot start Chromium through chromedriver: %s (see %s)"
                               % (short(e), os.path.join(artefacts, "chromedriver.log"))) from None
        results = [check_page(drv, a, u, n, artefacts) for n, (a, u) in enumerate(urls, 1)]
        versions = drv.capabilities.get("browserVersion", "")
    finally:
        if drv is not None:
            try:
                drv.quit()
            except Exception:  # the browser may already be gone
                pass
        shutil.rmtree(profile, ignore_errors=True)
    report = {"browser": "Chromium " + versions, "timeout": args.timeout,
              "clean": all(r["clean"] for r in results), "pages": results}
    with open(os.path.join(artefacts, "report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1) if args.json else text_report(results))
    return EXIT_CLEAN if report["clean"] else EXIT_DIRTY


def main(argv):
    # A test's cleanup sends SIGTERM: quit the browser on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(EXIT_ERROR))
    try:
        args = parse_args(argv)
        urls = [(a, page_url(a)) for a in args.pages]
        chromium, driver_path = find_programs()
        selenium = import_selenium()
        if args.probe:
            print("%s; %s; Selenium %s" % (version_of(chromium), version_of(driver_path),
                                           selenium.__version__))
            return EXIT_CLEAN
        return run_pages(args, urls, chromium, driver_path)
    except Usage as e:
        print("browser_check: %s" % e, file=sys.stderr)
        return EXIT_USAGE
    except Skip as e:
        print("browser_check: SKIP: %s" % e, file=sys.stderr)
        return EXIT_SKIP
    except Exception as e:  # the browser died or could not be driven
        print("browser_check: error: %s: %s" % (type(e).__name__, short(e)), file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
