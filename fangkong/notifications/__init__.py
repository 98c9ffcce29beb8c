"""Notifications: one interface (`services.notify`, `services.notify_post`), several channels.

In-app rows now; SMS (pluggable `channels.SmsGateway`, local by default) and e-mail (Django's
e-mail backend) are delivered by the `notifications.deliver` job.
"""
