# Mail Relay image. Build:  docker build -t mail-relay .     (docker-compose.yml does this)
# The image runs from /app, which holds the jar (extracted: mail-relay.jar, lib/ and the class
# data sharing archive mail-relay.jsa, see below), its application.yml (docker/application.yml, not
# the project's development one: no credential is in the image — keys, hashes and the tracking
# secret come from the environment), the `postgres` profile's application-postgres.yml and
# routes/: the relay reads all of them from its working directory. Mount over /app/routes (or
# /app/application.yml) to change them.

# ---- build ----------------------------------------------------------------------------------
FROM eclipse-temurin:17-jdk AS build
WORKDIR /build

# Maven and the dependencies first: this layer is rebuilt only when pom.xml (or the wrapper) changes.
COPY .mvn/ .mvn/
COPY mvnw pom.xml ./
RUN chmod +x mvnw && ./mvnw -B -q dependency:go-offline

COPY src/ src/
RUN ./mvnw -B -q package -DskipTests \
 && cp target/mail-relay-*.jar target/mail-relay.jar

# ---- runtime --------------------------------------------------------------------------------
FROM eclipse-temurin:17-jre

RUN useradd --system --user-group --home-dir /app --shell /usr/sbin/nologin relay

# Relative paths in the configuration (routes/, data/) resolve against the working directory.
WORKDIR /app
COPY --from=build /build/target/mail-relay.jar /tmp/mail-relay-boot.jar
# Started fast (README "Starting fast"): the boot jar extracted into mail-relay.jar and lib/ (a
# class path of plain jars), and a class data sharing archive of the classes a start loads,
# written by a training start that stops once the application context is refreshed (before any
# port is opened or any route runs). It runs here, in the runtime stage, because the archive only
# fits the JVM that wrote it; on the embedded default's H2 and routes in a scratch directory,
# deleted after, so nothing of it stays in the image but the archive. A JVM that cannot use the
# archive starts without it (and says so).
COPY application.yml /tmp/train/application.yml
COPY routes/ /tmp/train/routes/
# The memory settings bench/RESULTS.md measured ("The image's settings"): peak RSS 524 MB over
# the benchmark's full load with 2 KB messages and a soak (heap 192 MB, class metadata about
# 116 MB for some 24,000 classes, compiled code about 42 MB, the rest threads and native memory). A message in flight holds a few copies of its bytes: with many large messages at once
# (up to relay.max-message-size, 10 MB), raise -Xmx through JAVA_OPTS. The training start runs
# with them too.
ENV JAVA_OPTS="-Xmx192m -XX:+UseSerialGC -XX:ReservedCodeCacheSize=64m -XX:MaxMetaspaceSize=160m -Xss512k"
RUN set -e; \
    java -Djarmode=tools -jar /tmp/mail-relay-boot.jar extract --destination /tmp/extracted; \
    mv /tmp/extracted/mail-relay-boot.jar /app/mail-relay.jar; mv /tmp/extracted/lib /app/lib; \
    cd /tmp/train; \
    java $JAVA_OPTS -XX:ArchiveClassesAtExit=/app/mail-relay.jsa -Dspring.context.exit=onRefresh \
        -jar /app/mail-relay.jar > training.log 2>&1 || { tail -50 training.log; exit 1; }; \
    cd /; rm -rf /tmp/train /tmp/extracted /tmp/mail-relay-boot.jar
COPY docker/application.yml ./application.yml
COPY application-postgres.yml ./
COPY routes/ routes/
# data/: the outbox provider's .eml files, and the H2 database when no profile is active.
RUN mkdir -p data/outbox && chown -R relay:relay data

USER relay

# 8080: REST API and actuator (/actuator/health for anyone; /actuator/prometheus with the admin
# key); 2525: SMTP ingress.
EXPOSE 8080 2525
# JAVA_OPTS: set above (the memory settings). The archive is given on the command line, not in
# JAVA_OPTS, so that a JAVA_OPTS of your own keeps it.
# exec: the JVM is PID 1's process and gets SIGTERM itself (graceful shutdown, README "Shutdown").
ENTRYPOINT ["sh","-c","exec java $JAVA_OPTS -XX:SharedArchiveFile=/app/mail-relay.jsa -jar /app/mail-relay.jar"]
