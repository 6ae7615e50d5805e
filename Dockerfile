# Mail Relay image. Build:  docker build -t mail-relay .     (docker-compose.yml does this)
# The image runs from /app, which holds the jar, its application.yml (docker/application.yml, not
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
COPY --from=build /build/target/mail-relay.jar mail-relay.jar
COPY docker/application.yml ./application.yml
COPY application-postgres.yml ./
COPY routes/ routes/
# data/: the outbox provider's .eml files, and the H2 database when no profile is active.
RUN mkdir -p data/outbox && chown -R relay:relay data

USER relay

# 8080: REST API and actuator (/actuator/health for anyone; /actuator/prometheus with the admin
# key); 2525: SMTP ingress.
EXPOSE 8080 2525
# The memory settings bench/RESULTS.md measured: peak RSS about 400 MB at full load with 2 KB
# messages. A message in flight holds a few copies of its bytes: with many large messages at once
# (up to relay.max-message-size, 10 MB), raise -Xmx through JAVA_OPTS.
ENV JAVA_OPTS="-Xmx192m -XX:+UseSerialGC -XX:ReservedCodeCacheSize=64m -XX:MaxMetaspaceSize=160m -Xss512k"
# exec: the JVM is PID 1's process and gets SIGTERM itself (graceful shutdown, README "Shutdown").
ENTRYPOINT ["sh","-c","exec java $JAVA_OPTS -jar /app/mail-relay.jar"]
