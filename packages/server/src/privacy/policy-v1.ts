/**
 * Version 1 of the privacy policy Post Scheduler publishes, effective 15 January 2025, exactly as
 * published (a copy of `privacy-policy.txt`). Later versions are published with
 * `post-scheduler policy publish` and stored in `policy_versions`.
 */
export const POLICY_V1 = {
  version: 1,
  effectiveAt: new Date('2025-01-15T00:00:00Z'),
  summary: 'The first published privacy policy.',
  text: `Privacy Policy
Effective Date: January 15, 2025
At Post Scheduler (operated by MVP Stack LTD), we are committed to protecting the privacy of our users. This Privacy Policy explains how we collect, use, and safeguard information when you use our social media scheduling platform. By using Post Scheduler, you agree to the terms outlined in this policy.
Information We Collect
We collect information to provide and improve our social media scheduling services:
- Account Information: When you create an account, we collect your name, email address, and password. This information is necessary to provide you with access to our platform.
- Social Media Account Data: When you connect your social media accounts (Twitter/X, Instagram, LinkedIn, Facebook, YouTube, TikTok), we receive access tokens and basic profile information necessary to post content on your behalf.
- Content Data: We store the posts, images, videos, and scheduling information you create within our platform to provide our scheduling services.
- Usage Information: We collect data about how you use Post Scheduler, including features accessed, posts scheduled, and analytics data to improve our service.
- Device and Technical Information: We automatically collect device information, IP addresses, browser type, and operating system for security and platform optimization purposes.
- Payment Information: For paid subscriptions, we collect billing information through secure third-party payment processors. We do not store your complete credit card information on our servers.
How We Use Your Information
We use the collected information for the following purposes:
- Service Delivery: To provide social media scheduling, posting, and analytics services across connected platforms.
- Account Management: To create and manage your account, process payments, and provide customer support.
- Platform Improvement: To analyze usage patterns, identify bugs, and develop new features to enhance our service.
- Communication: To send important service updates, security alerts, and respond to your inquiries.
- Security: To protect against fraud, unauthorized access, and ensure the security of our platform and users.
- Legal Compliance: To comply with applicable laws, respond to legal requests, and protect our rights and those of our users.
We do not sell, rent, or share your personal information with third parties for their marketing purposes.
Social Media Platform Integration
Post Scheduler integrates with various social media platforms to provide our services:
- Platform APIs: We use official APIs provided by Twitter/X, Instagram, LinkedIn, Facebook, YouTube, and TikTok to post content on your behalf.
- Access Permissions: We only request the minimum permissions necessary to provide our scheduling services (typically posting and basic profile access).
- Data Sharing: Content you schedule through Post Scheduler will be posted to your connected social media accounts according to your instructions.
- Platform Policies: Your use of connected social media platforms remains subject to their respective terms of service and privacy policies.
Data Storage and Security
We implement industry-standard security measures to protect your information:
- Encryption: All data transmission is protected using SSL/TLS encryption (256-bit). Sensitive data is encrypted at rest.
- Access Controls: We implement strict access controls and regularly audit access to user data.
- Infrastructure: Our platform is hosted on secure, regularly updated servers with appropriate firewalls and monitoring systems.
- Regular Updates: We regularly update our security measures and conduct security assessments to identify and address potential vulnerabilities.
While we implement robust security measures, no method of transmission over the internet is 100% secure. We cannot guarantee absolute security but are committed to protecting your data to the best of our ability.
Data Retention and Deletion
We maintain clear policies regarding data retention:
- Account Data: We retain your account information for as long as your account remains active. You can request account deletion at any time through your account settings.
- Content Data: Scheduled posts and media are retained until posted or manually deleted. Posted content history is retained for analytics purposes but can be deleted upon request.
- Social Media Tokens: Access tokens for connected social media accounts are securely stored and can be revoked by disconnecting accounts in your settings.
- Usage Analytics: Aggregated usage data may be retained for up to 24 months for platform improvement purposes.
- Account Deletion: Upon account deletion, we remove your personal data within 30 days, except where retention is required by law.
Third-Party Services
Post Scheduler integrates with several third-party services:
- Payment Processors: We use secure third-party payment processors to handle subscription payments. These services have their own privacy policies.
- Analytics Services: We may use analytics services to understand platform usage and improve our service.
- Cloud Storage: User content may be temporarily stored on secure cloud storage services for processing and delivery.
- Social Media Platforms: Integration with social media platforms is governed by their respective privacy policies and terms of service.
Your Rights and Choices
You have several rights regarding your personal information:
- Access: You can access and review your personal information through your account dashboard.
- Correction: You can update or correct your personal information at any time through your account settings.
- Deletion: You can request deletion of your account and associated data. Some information may be retained for legal or security purposes.
- Data Portability: You can export your content and data from our platform at any time.
- Withdrawal of Consent: You can disconnect social media accounts or withdraw consent for data processing, though this may limit service functionality.
International Data Transfers
Post Scheduler may transfer and process your information in countries other than your country of residence. We ensure appropriate safeguards are in place to protect your information during international transfers, including:
- Using secure, encrypted transmission methods
- Ensuring third-party services meet adequate data protection standards
- Implementing contractual protections where necessary
Children's Privacy
Post Scheduler is not intended for use by children under the age of 13. We do not knowingly collect personal information from children under 13. If we become aware that we have collected personal information from a child under 13, we will take steps to delete that information promptly.
Changes to This Privacy Policy
We may update this Privacy Policy from time to time to reflect changes in our practices or applicable law. When we make changes, we will:
- Update the "Effective Date" at the top of this policy
- Notify you of significant changes via email or platform notification
- Provide advance notice for changes that materially affect your rights
Your continued use of Post Scheduler after changes become effective constitutes acceptance of the updated Privacy Policy.
Contact Us
If you have any questions, concerns, or requests regarding this Privacy Policy or our data practices, please contact us:
- Email: [email protected]`,
} as const
