# The stock Jobs node. Build from the repository root:  docker build -t jobs-node .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
# ReadyToRun: the node's and Akka's code precompiled for the image's architecture (Docker's TARGETARCH: amd64,
# arm64), so startup does not wait for the JIT (docs/benchmarks.md).
ARG TARGETARCH
RUN dotnet publish src/Jobs.Host/Jobs.Host.csproj -c Release -a $TARGETARCH --self-contained false -p:PublishReadyToRun=true -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
COPY hocon /app/hocon
# Jobs on the embedded SQLite file live here unless the config says otherwise.
VOLUME /app/data
ENV JOBS_LISTEN=http://0.0.0.0:5080
EXPOSE 5080
ENTRYPOINT ["dotnet", "Jobs.Host.dll"]
