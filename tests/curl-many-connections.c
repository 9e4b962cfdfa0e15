/* curl-many-connections.c: an LD_PRELOAD shim for tests/slow/proxy-streams.t.
 * It keeps the first CURLMOPT_MAX_HOST_CONNECTIONS a program sets (as many
 * connections per host as calls in flight) and ignores later ones, so that
 * libcurl 7.88 opens a tunnel per waiting call as it did before the HTTP
 * client kept one connection per host over TLS: the attempts it then fails
 * unsent ("send: no filter connected") must be sent again.
 * Built by the test: cc -shared -fPIC -o shim.so curl-many-connections.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <curl/curl.h>

static long first_max = -1;

CURLMcode curl_multi_setopt(CURLM *m, CURLMoption opt, ...);

CURLMcode
curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
	static CURLMcode (*real)(CURLM *, CURLMoption, ...);
	va_list ap;
	long l;
	void *p;
	if (!real)
		real = (CURLMcode (*)(CURLM *, CURLMoption, ...))dlsym(RTLD_NEXT, "curl_multi_setopt");
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT) {
		l = va_arg(ap, long);
		va_end(ap);
		if (opt == CURLMOPT_MAX_HOST_CONNECTIONS) {
			if (first_max < 0)
				first_max = l;
			l = first_max;
		}
		return real(m, opt, l);
	}
	p = va_arg(ap, void *);
	va_end(ap);
	return real(m, opt, p);
}
