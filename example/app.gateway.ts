import type { IncomingMessage } from 'node:http';
import { MessageBody, type OnGatewayConnection, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';

/** Who connected to the chat gateway, newest last, for the playground's WebSocket panel. */
export const chatConnections: Array<{ id: number; origin?: string }> = [];
let nextConnection = 1;

/**
 * A WebSocket gateway (`ws`, at `/chat`) under the global policy: nestjs-cors decides its handshakes, so a page on an
 * origin the policy does not allow cannot open it, although browsers apply no CORS to WebSockets.
 */
@WebSocketGateway({ path: '/chat' })
export class ChatGateway implements OnGatewayConnection {
  handleConnection(_client: unknown, request: IncomingMessage): void {
    chatConnections.push({ id: nextConnection++, origin: request.headers.origin });
    if (chatConnections.length > 50) chatConnections.shift();
  }

  @SubscribeMessage('echo') echo(@MessageBody() data: unknown) {
    return { event: 'echo', data };
  }
}
