# 聊天消息（Slack、企业微信、钉钉、飞书/Lark）和 webhook 测试告警的文字。
# 其余内容与告警邮件相同，用的是邮件的文字（email.ftl）。

chat-new-heading = 新告警（{ $n }）
chat-owners = 负责人
# 企业微信只能在文本消息里按手机号 @ 人：这条消息紧跟在告警消息之后。
chat-mention = flywheel · { $account }：你负责的产品有告警，详见上一条消息。
chat-test-title = flywheel 测试消息
chat-test-body = 这是 flywheel 发给接收方 { $receiver }（{ $kind }）的测试消息。能在这里看到它，告警就能送达这个群。
