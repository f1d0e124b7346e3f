# Words of chat messages (Slack, WeCom, DingTalk, Feishu/Lark) and the
# webhook's test alert. The rest of a chat message says what the alert
# email says, in its words (email.ftl).

chat-new-heading = New ({ $n })
chat-owners = Owners
# WeCom mentions people by mobile number only in a text message: it follows
# the alert message.
chat-mention = flywheel · { $account }: alerts about your products, in the message above.
chat-test-title = flywheel test message
chat-test-body = A test from flywheel for receiver { $receiver } ({ $kind }). If you can read this here, alerts will reach this chat.
