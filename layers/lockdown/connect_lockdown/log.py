"""The service name every logger of the project shares.

Library modules create `Logger(service=SERVICE, child=True)`: Powertools then routes their records through the
handler's logger, with its service name, correlation id and JSON format. From the command line, where no
handler logger exists, warnings still reach stderr through Python's last-resort handler.
"""

SERVICE = "connect-lockdown"
