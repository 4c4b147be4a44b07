// The entry the compile-speed benchmark bundles (bench/compile_speed/run.sh): a Worker built on a router
// (hono, with middleware and both of its routers) and two date libraries (luxon's ES build, all of date-fns),
// imported from node_modules the way a Worker project imports them. The benchmark only compiles it; served by
// ew-server, /date/ISO answers from date-fns and hono, while /luxon/ISO needs Intl, which the runtime lacks.
import * as dateFns from 'date-fns';
import { DateTime, Duration, Interval, Info } from 'luxon';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { etag } from 'hono/etag';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import { TrieRouter } from 'hono/router/trie-router';

const app = new Hono({ router: new RegExpRouter() });
const fallback = new Hono({ router: new TrieRouter() });
app.use('*', cors());
app.use('*', etag());

app.get('/date/:iso', (c) => {
  const when = dateFns.parseISO(c.req.param('iso'));
  return c.json({
    next: dateFns.addDays(when, 1).toISOString(),
    weekday: dateFns.getISODay(when),
    leap: dateFns.isLeapYear(when),
    distance: dateFns.differenceInCalendarDays(when, new Date(Date.UTC(2000, 0, 1))),
  });
});
app.get('/luxon/:iso', (c) => {
  const when = DateTime.fromISO(c.req.param('iso'), { zone: 'utc' });
  return c.json({
    next: when.plus(Duration.fromObject({ days: 1 })).toISO(),
    week: Interval.fromDateTimes(when, when.plus({ weeks: 1 })).length('days'),
    months: Info.months('short'),
  });
});
fallback.get('*', (c) => c.text('not found', 404));
app.route('/', fallback);

export default app;
