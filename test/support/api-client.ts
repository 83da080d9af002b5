/** A logged-in JSON client for cross-layer tests: what the UI shows is checked against it. */
export interface ApiClient {
  get<T>(path: string): Promise<T>;
  readonly cookie: string;
}

export async function apiLogin(baseUrl: string, username: string, password: string): Promise<ApiClient> {
  const response = await fetch(`${baseUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (response.status !== 200) throw new Error(`login failed: ${String(response.status)} ${await response.text()}`);
  const setCookie = response.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';', 1)[0] ?? '';
  return {
    cookie,
    async get<T>(path: string): Promise<T> {
      const answer = await fetch(`${baseUrl}${path}`, { headers: { cookie } });
      if (answer.status !== 200) throw new Error(`GET ${path}: ${String(answer.status)} ${await answer.text()}`);
      return (await answer.json()) as T;
    },
  };
}
