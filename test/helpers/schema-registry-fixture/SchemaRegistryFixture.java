/*
 * TEST FIXTURE: NOT Confluent Schema Registry. orch's integration test of roles/schema-registry runs this in place of
 * Confluent's archive, which no registry this machine reaches carries (../../../../shared/ARTIFACTS.md). It reads the
 * role's schema-registry.properties and serves the REST subset the role's health check and the test call:
 *
 *   GET /                                  {}
 *   GET /subjects                          ["subject", ...]
 *   GET /subjects/{s}/versions             [1, 2, ...]
 *   GET /subjects/{s}/versions/{n|latest}  {"subject", "version", "id", "schema"}
 *   POST /subjects/{s}/versions            {"schema": "..."} -> {"id": n}
 *   GET /schemas/ids/{id}                  {"schema": "..."}
 *
 * Schemas live in the real Kafka topic `kafkastore.topic` (created, like Schema Registry does, with one partition,
 * cleanup.policy=compact and `kafkastore.topic.replication.factor`), read from the beginning by every instance: a
 * schema registered on one instance is readable through any other. Unlike the real registry there is no leader:
 * the topic holds registration requests and every instance assigns ids and versions in offset order (the same log
 * gives the same ids everywhere); reads first catch up with the topic's end. No compatibility checks, no deletes,
 * no modes; the schema text is kept as given (it must be JSON, as Avro schemas are).
 */
package orch.fixture;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public final class SchemaRegistryFixture {
  private static final String JSON_TYPE = "application/vnd.schemaregistry.v1+json";

  private final Properties conf;
  private final String bootstrap;
  private final String topic;
  private final TopicPartition tp;
  private Admin admin;
  private KafkaProducer<String, String> producer;

  // the store, applied from the topic in offset order (guarded by `this`)
  private final Map<String, Integer> idBySchema = new HashMap<>();
  private final List<String> schemaById = new ArrayList<>();
  private final TreeMap<String, List<Integer>> versions = new TreeMap<>();
  private long applied = 0;

  private SchemaRegistryFixture(Properties conf) {
    this.conf = conf;
    List<String> servers = new ArrayList<>();
    for (String s : conf.getProperty("kafkastore.bootstrap.servers", "").split(",")) {
      if (!s.isBlank()) servers.add(s.trim().replaceFirst("^[A-Za-z_]+://", ""));
    }
    if (servers.isEmpty()) die("kafkastore.bootstrap.servers is not set");
    this.bootstrap = String.join(",", servers);
    this.topic = conf.getProperty("kafkastore.topic", "_schemas");
    this.tp = new TopicPartition(topic, 0);
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 1) die("usage: schema-registry-start <schema-registry.properties>");
    Properties p = new Properties();
    try (Reader r = new InputStreamReader(new FileInputStream(args[0]), StandardCharsets.UTF_8)) {
      p.load(r);
    }
    new SchemaRegistryFixture(p).run();
  }

  private static void die(String msg) {
    System.err.println("schema-registry-fixture: " + msg);
    System.exit(1);
  }

  private static void log(String msg) {
    System.out.println("schema-registry-fixture: " + msg);
  }

  private void run() throws Exception {
    URI listener = URI.create(conf.getProperty("listeners", "http://0.0.0.0:8081").split(",")[0].trim());
    if (!"http".equals(listener.getScheme())) die("only an http:// listener is served, got " + listener);
    int rf = Integer.parseInt(conf.getProperty("kafkastore.topic.replication.factor", "3"));
    log("host.name=" + conf.getProperty("host.name", "") + " schema.registry.group.id=" + conf.getProperty("schema.registry.group.id", "schema-registry")
        + " leader.eligibility=" + conf.getProperty("leader.eligibility", "true") + " (no leader election in this fixture)");

    Properties common = new Properties();
    common.put("bootstrap.servers", bootstrap);
    admin = Admin.create(common);
    ensureTopic(rf);

    Properties cp = new Properties();
    cp.putAll(common);
    cp.put("key.deserializer", StringDeserializer.class.getName());
    cp.put("value.deserializer", StringDeserializer.class.getName());
    cp.put("enable.auto.commit", "false");
    KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp);
    consumer.assign(List.of(tp));
    consumer.seekToBeginning(List.of(tp));
    Thread reader = new Thread(() -> {
      try {
        while (true) {
          var records = consumer.poll(Duration.ofMillis(200));
          synchronized (this) {
            for (ConsumerRecord<String, String> r : records) apply(r.key(), r.value());
            applied = consumer.position(tp);
            notifyAll();
          }
        }
      } catch (Exception e) {
        e.printStackTrace();
        die("reading " + topic + " failed: " + e);
      }
    }, "kafkastore-reader");
    reader.start();

    Properties pp = new Properties();
    pp.putAll(common);
    pp.put("key.serializer", StringSerializer.class.getName());
    pp.put("value.serializer", StringSerializer.class.getName());
    pp.put("acks", "all");
    producer = new KafkaProducer<>(pp);

    if (!catchUp(60_000)) die("could not read " + topic + " to its end within 60 s");
    HttpServer server = HttpServer.create(new InetSocketAddress(listener.getHost(), listener.getPort()), 64);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.createContext("/", this::handle);
    server.start();
    log("listening on " + listener + ", store " + topic + " on " + bootstrap + " (" + applied + " records read)");
  }

  /** Create the store topic as Schema Registry does (1 partition, compacted), or check the one there. */
  private void ensureTopic(int rf) throws Exception {
    long deadline = System.currentTimeMillis() + 120_000;
    while (true) {
      try {
        NewTopic t = new NewTopic(topic, 1, (short) rf).configs(Map.of("cleanup.policy", "compact"));
        admin.createTopics(List.of(t)).all().get(30, TimeUnit.SECONDS);
        log("created topic " + topic + " (1 partition, replication factor " + rf + ", compacted)");
        return;
      } catch (ExecutionException e) {
        if (e.getCause() instanceof TopicExistsException) {
          TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
          if (d.partitions().size() != 1) die("topic " + topic + " has " + d.partitions().size() + " partitions; the schema store needs exactly 1");
          return;
        }
        if (System.currentTimeMillis() > deadline) throw e;
        log("Kafka not ready (" + e.getCause() + "), retrying");
        Thread.sleep(2000);
      }
    }
  }

  private synchronized void apply(String key, String value) {
    if (key == null || value == null) return;
    Object k = Json.parse(key);
    if (!(k instanceof Map) || !"SCHEMA".equals(((Map<?, ?>) k).get("keytype"))) return;
    Map<?, ?> v = (Map<?, ?>) Json.parse(value);
    String subject = (String) v.get("subject");
    String schema = (String) v.get("schema");
    Integer id = idBySchema.get(schema);
    if (id == null) {
      schemaById.add(schema);
      id = schemaById.size();
      idBySchema.put(schema, id);
    }
    List<Integer> vs = versions.computeIfAbsent(subject, s -> new ArrayList<>());
    if (!vs.contains(id)) vs.add(id);
  }

  /** Wait until the store has applied every record up to `offset` (exclusive). */
  private synchronized boolean waitApplied(long offset, long timeoutMs) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (applied < offset) {
      long left = deadline - System.currentTimeMillis();
      if (left <= 0) return false;
      wait(left);
    }
    return true;
  }

  /** Read-your-writes across instances: apply the topic up to its current end before answering. */
  private boolean catchUp(long timeoutMs) throws Exception {
    long end = admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get(10, TimeUnit.SECONDS).get(tp).offset();
    return waitApplied(end, timeoutMs);
  }

  private void handle(HttpExchange ex) throws IOException {
    try {
      List<String> path = new ArrayList<>();
      for (String s : ex.getRequestURI().getRawPath().split("/")) {
        if (!s.isEmpty()) path.add(URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
      }
      String method = ex.getRequestMethod();
      if (!"GET".equals(method) && !("POST".equals(method) && path.size() == 3 && "subjects".equals(path.get(0)) && "versions".equals(path.get(2)))) {
        reply(ex, 405, error(405, "HTTP 405 Method Not Allowed"));
        return;
      }
      if (path.isEmpty()) {
        reply(ex, 200, "{}");
        return;
      }
      if (!catchUp(10_000)) {
        reply(ex, 500, error(50002, "the store did not catch up with " + topic + " within 10 s"));
        return;
      }
      if (path.size() == 1 && "subjects".equals(path.get(0))) {
        synchronized (this) {
          List<String> out = new ArrayList<>();
          for (String s : versions.keySet()) out.add(Json.str(s));
          reply(ex, 200, "[" + String.join(",", out) + "]");
        }
      } else if (path.size() >= 3 && "subjects".equals(path.get(0)) && "versions".equals(path.get(2))) {
        String subject = path.get(1);
        if ("POST".equals(method)) {
          register(ex, subject);
          return;
        }
        synchronized (this) {
          List<Integer> vs = versions.get(subject);
          if (vs == null) {
            reply(ex, 404, error(40401, "Subject '" + subject + "' not found."));
          } else if (path.size() == 3) {
            List<String> out = new ArrayList<>();
            for (int i = 1; i <= vs.size(); i++) out.add(String.valueOf(i));
            reply(ex, 200, "[" + String.join(",", out) + "]");
          } else if (path.size() == 4) {
            int n = "latest".equals(path.get(3)) ? vs.size() : parseInt(path.get(3));
            if (n < 1 || n > vs.size()) {
              reply(ex, 404, error(40402, "Version " + path.get(3) + " not found."));
            } else {
              int id = vs.get(n - 1);
              reply(ex, 200, "{\"subject\":" + Json.str(subject) + ",\"version\":" + n + ",\"id\":" + id + ",\"schema\":" + Json.str(schemaById.get(id - 1)) + "}");
            }
          } else {
            reply(ex, 404, error(404, "HTTP 404 Not Found"));
          }
        }
      } else if (path.size() == 3 && "schemas".equals(path.get(0)) && "ids".equals(path.get(1))) {
        int id = parseInt(path.get(2));
        synchronized (this) {
          if (id < 1 || id > schemaById.size()) reply(ex, 404, error(40403, "Schema " + path.get(2) + " not found"));
          else reply(ex, 200, "{\"schema\":" + Json.str(schemaById.get(id - 1)) + "}");
        }
      } else {
        reply(ex, 404, error(404, "HTTP 404 Not Found"));
      }
    } catch (Exception e) {
      e.printStackTrace();
      reply(ex, 500, error(50001, String.valueOf(e)));
    }
  }

  private void register(HttpExchange ex, String subject) throws Exception {
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    Object req;
    try {
      req = Json.parse(body);
    } catch (IllegalArgumentException e) {
      reply(ex, 400, error(400, "Unrecognized request body: " + e.getMessage()));
      return;
    }
    Object schema = req instanceof Map ? ((Map<?, ?>) req).get("schema") : null;
    if (!(schema instanceof String)) {
      reply(ex, 422, error(42201, "Invalid schema: the request needs a \"schema\" string"));
      return;
    }
    try {
      Json.parse((String) schema);
    } catch (IllegalArgumentException e) {
      reply(ex, 422, error(42201, "Invalid schema: not JSON (" + e.getMessage() + ")"));
      return;
    }
    synchronized (this) {
      Integer id = idBySchema.get(schema);
      List<Integer> vs = versions.get(subject);
      if (id != null && vs != null && vs.contains(id)) {
        reply(ex, 200, "{\"id\":" + id + "}");
        return;
      }
    }
    String key = "{\"keytype\":\"SCHEMA\",\"subject\":" + Json.str(subject) + ",\"magic\":1,\"schema_sha256\":" + Json.str(sha256((String) schema)) + "}";
    String value = "{\"subject\":" + Json.str(subject) + ",\"schema\":" + Json.str((String) schema) + "}";
    long offset = producer.send(new ProducerRecord<>(topic, 0, key, value)).get(30, TimeUnit.SECONDS).offset();
    if (!waitApplied(offset + 1, 30_000)) {
      reply(ex, 500, error(50002, "the registration at offset " + offset + " was not read back within 30 s"));
      return;
    }
    synchronized (this) {
      reply(ex, 200, "{\"id\":" + idBySchema.get(schema) + "}");
    }
  }

  private static int parseInt(String s) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static String sha256(String s) throws Exception {
    StringBuilder b = new StringBuilder();
    for (byte x : MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8))) b.append(String.format("%02x", x));
    return b.toString();
  }

  private static String error(int code, String message) {
    return "{\"error_code\":" + code + ",\"message\":" + Json.str(message) + "}";
  }

  private static void reply(HttpExchange ex, int status, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", JSON_TYPE);
    ex.sendResponseHeaders(status, b.length);
    ex.getResponseBody().write(b);
    ex.close();
  }

  /** The little JSON this fixture needs: parse to Map / List / String / Double / Boolean / null, quote strings. */
  static final class Json {
    private final String s;
    private int i;

    private Json(String s) {
      this.s = s;
    }

    static Object parse(String s) {
      Json j = new Json(s);
      Object v = j.value();
      j.ws();
      if (j.i != s.length()) throw new IllegalArgumentException("trailing characters at " + j.i);
      return v;
    }

    static String str(String v) {
      StringBuilder b = new StringBuilder("\"");
      for (char c : v.toCharArray()) {
        switch (c) {
          case '"': b.append("\\\""); break;
          case '\\': b.append("\\\\"); break;
          case '\n': b.append("\\n"); break;
          case '\r': b.append("\\r"); break;
          case '\t': b.append("\\t"); break;
          default:
            if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
      }
      return b.append('"').toString();
    }

    private void ws() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
    }

    private IllegalArgumentException bad(String what) {
      return new IllegalArgumentException("expected " + what + " at " + i);
    }

    private Object value() {
      ws();
      if (i >= s.length()) throw bad("a value");
      char c = s.charAt(i);
      if (c == '{') {
        Map<String, Object> m = new LinkedHashMap<>();
        i++;
        ws();
        if (i < s.length() && s.charAt(i) == '}') {
          i++;
          return m;
        }
        while (true) {
          ws();
          if (i >= s.length() || s.charAt(i) != '"') throw bad("a key");
          String k = string();
          ws();
          if (i >= s.length() || s.charAt(i++) != ':') throw bad("':'");
          m.put(k, value());
          ws();
          if (i < s.length() && s.charAt(i) == ',') i++;
          else if (i < s.length() && s.charAt(i) == '}') {
            i++;
            return m;
          } else throw bad("',' or '}'");
        }
      }
      if (c == '[') {
        List<Object> l = new ArrayList<>();
        i++;
        ws();
        if (i < s.length() && s.charAt(i) == ']') {
          i++;
          return l;
        }
        while (true) {
          l.add(value());
          ws();
          if (i < s.length() && s.charAt(i) == ',') i++;
          else if (i < s.length() && s.charAt(i) == ']') {
            i++;
            return l;
          } else throw bad("',' or ']'");
        }
      }
      if (c == '"') return string();
      for (String lit : new String[] {"true", "false", "null"}) {
        if (s.startsWith(lit, i)) {
          i += lit.length();
          return "null".equals(lit) ? null : Boolean.valueOf(lit);
        }
      }
      int start = i;
      while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
      if (start == i) throw bad("a value");
      try {
        return Double.valueOf(s.substring(start, i));
      } catch (NumberFormatException e) {
        throw bad("a number");
      }
    }

    private String string() {
      StringBuilder b = new StringBuilder();
      i++;
      while (true) {
        if (i >= s.length()) throw bad("'\"'");
        char c = s.charAt(i++);
        if (c == '"') return b.toString();
        if (c != '\\') {
          b.append(c);
          continue;
        }
        if (i >= s.length()) throw bad("an escape");
        char e = s.charAt(i++);
        switch (e) {
          case 'n': b.append('\n'); break;
          case 't': b.append('\t'); break;
          case 'r': b.append('\r'); break;
          case 'b': b.append('\b'); break;
          case 'f': b.append('\f'); break;
          case 'u':
            if (i + 4 > s.length()) throw bad("4 hex digits");
            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
            break;
          default: b.append(e);
        }
      }
    }
  }
}
