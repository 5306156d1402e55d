import type { PageRoute } from '../router.ts';
import { overviewPage } from './overview.ts';
import { proposalsPage } from './proposals.ts';
import { missionPage, missionsPage } from './missions.ts';
import { eventsPage } from './events.ts';
import { policyPage } from './policy.ts';
import { alertsPage, reactionsPage, schedulePage, triggersPage } from './control.ts';

export { workloadPage } from './workload.ts';

/** Every core page; the layout's navigation lists them in the same order. */
export const PAGES: PageRoute[] = [
  { path: '/console', render: overviewPage },
  { path: '/console/proposals', render: proposalsPage },
  { path: '/console/missions', render: missionsPage },
  { path: '/console/missions/:id', render: missionPage },
  { path: '/console/events', render: eventsPage },
  { path: '/console/policy', render: policyPage },
  { path: '/console/triggers', render: triggersPage },
  { path: '/console/reactions', render: reactionsPage },
  { path: '/console/schedule', render: schedulePage },
  { path: '/console/alerts', render: alertsPage },
];
