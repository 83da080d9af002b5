import { render } from 'preact';
import { prefetch } from './api.ts';
import { App } from './app.tsx';
import { parseRoute, rowPaths } from './route.ts';
import './styles.css';

// The first view's rows, the session, the datacenters and the status are asked for at once,
// not one after the other as the app's components mount.
const route = parseRoute(window.location.hash);
const rows = rowPaths(route);
const entity = route.view === 'entity' ? `/api/entities/${encodeURIComponent(route.id)}` : null;
prefetch([rows.vms, rows.hosts, rows.datastores, entity, '/api/session', '/api/datacenters', '/api/status'].filter((p): p is string => p !== null));

const root = document.getElementById('app');
if (root) render(<App />, root);
