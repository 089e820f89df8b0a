/** Waits until `<url>/health` answers 200 (up to 15 s): a gateway just started may not listen, or be healthy, yet. */
export async function waitForHealth(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const healthy = await fetch(`${url}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (healthy) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url}/health never answered 200`);
}
