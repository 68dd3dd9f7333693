import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import javax.servlet.ServletException;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.HandlerWrapper;

/**
 * Starts DynamoDB Local (the AWS jar) bound to 127.0.0.1 only, behind the same guard as every
 * other local server (../services/loopback-host.ts). DynamoDB Local has no option for the listen
 * address and binds every interface; its Jetty connector is created in the constructor and can be
 * pointed at loopback before it starts. It has no Host check either, so a web page could reach it
 * by DNS rebinding, and it answers CORS for any origin by default ("-cors ... The default setting
 * for -cors is an asterisk (*), which allows public access":
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/DynamoDBLocal.UsageNotes.html):
 * the guard answers 403 to a Host that is not a loopback name and to any request with an Origin
 * (its clients are AWS SDKs, which send none), before DynamoDB Local sees the request.
 */
public final class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) {
      if (connector instanceof ServerConnector) {
        ((ServerConnector) connector).setHost("127.0.0.1");
      }
    }
    if (server.getHandler() == null) throw new IllegalStateException("DynamoDB Local has no request handler to guard");
    LoopbackGuard guard = new LoopbackGuard();
    guard.setHandler(server.getHandler());
    server.setHandler(guard);
    proxy.start();
    System.out.println("DynamoDB Local listening on 127.0.0.1, loopback Host only, no web page");
    proxy.join();
  }

  /** The rule of isLoopbackHost(host, 'any') and fromWebPage in loopback-host.ts. */
  static final class LoopbackGuard extends HandlerWrapper {
    private static final Pattern LOOPBACK_HOST = Pattern.compile("^(127\\.0\\.0\\.1|localhost|\\[::1\\]):[0-9]{1,5}$", Pattern.CASE_INSENSITIVE);

    @Override
    public void handle(String target, Request baseRequest, HttpServletRequest request, HttpServletResponse response) throws IOException, ServletException {
      String origin = request.getHeader("Origin");
      String host = request.getHeader("Host");
      String refusal = null;
      if (origin != null) {
        refusal = "Origin \"" + origin + "\" refused: this local AWS stand-in answers AWS SDK clients, never a web page";
      } else if (host == null || !LOOPBACK_HOST.matcher(host.trim()).matches()) {
        refusal = "Host \"" + (host == null ? "" : host) + "\" refused: this local server answers only loopback names";
      }
      if (refusal == null) {
        super.handle(target, baseRequest, request, response);
        return;
      }
      baseRequest.setHandled(true);
      byte[] body = ("{\"message\":" + jsonString(refusal) + "}").getBytes(StandardCharsets.UTF_8);
      response.setStatus(403);
      response.setContentType("application/json");
      response.setHeader("Connection", "close");
      response.setContentLength(body.length);
      response.getOutputStream().write(body);
    }

    private static String jsonString(String text) {
      StringBuilder out = new StringBuilder("\"");
      for (char c : text.toCharArray()) {
        if (c == '"' || c == '\\') out.append('\\').append(c);
        else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
        else out.append(c);
      }
      return out.append('"').toString();
    }
  }
}
