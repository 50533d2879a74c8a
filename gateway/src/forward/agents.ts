import { Agent } from 'node:http';

/**
 * One keep-alive agent per back-end origin, kept across reloads so a new plan reuses the
 * warm connections. Without it every request opens a connection (~1k req/s, thousands of
 * TIME_WAIT sockets). Idle sockets are closed after 4 s, before the back ends' own 5 s
 * keep-alive timeout (Node's default), so the gateway never writes to a socket the back end
 * is closing.
 */
export class AgentPool {
  private readonly agents = new Map<string, Agent>();

  get(origin: string): Agent {
    let agent = this.agents.get(origin);
    if (!agent) {
      agent = new Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo', timeout: 4_000, noDelay: true });
      this.agents.set(origin, agent);
    }
    return agent;
  }

  destroyAll(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
